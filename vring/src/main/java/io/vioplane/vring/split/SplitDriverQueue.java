package io.vioplane.vring.split;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.RingAreas;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static io.vioplane.vring.split.SplitRing.*;

/**
 * The driver side of a split virtqueue (VIRTIO 1.x section 2.7.13: supplying buffers, 2.7.14: receiving
 * used buffers).
 *
 * <p>Descriptors are allocated from a first-in first-out free list kept in Java memory (the device can not
 * corrupt it), so that with VIRTIO_F_IN_ORDER chains use the table in ring order as section 2.7.5 requires.
 * With {@code useIndirect}, a buffer of two or more segments takes one descriptor of the ring pointing at its
 * own indirect table in a pool the caller provides ({@code size} tables of {@code maxIndirectEntries}).
 *
 * <p>Reaping checks what the device wrote: a used id must be a head in flight and the length must fit the
 * buffer's writable part, else the queue stops with {@link #deviceFault()}. Under IN_ORDER, a used entry
 * may stand for a whole batch: earlier buffers are then reported with their full writable length.
 */
public final class SplitDriverQueue implements DriverQueue {
    private final QueueConfig config;
    private final int size;
    private final int mask;
    private final boolean eventIdx;
    private final boolean inOrder;
    private final boolean useIndirect;
    private final int maxIndirectEntries;
    private final long indirectPoolGpa;
    private final MemorySegment indirectPool;
    private final MemorySegment descTable;
    private final MemorySegment availRing;
    private final MemorySegment usedRing;
    private final long usedEventOffset;
    private final long availEventOffset;

    private final int[] freeNext;
    private final int[] chainNext;
    private final int[] chainLength;
    private final int[] tokenOf;
    private final long[] writableBytesOf;
    private final boolean[] inFlight;
    private final int[] submitOrder;
    private int freeHead;
    private int freeTail;
    private int freeCount;
    private int orderHead;
    private int orderTail;

    private int availIdx;
    private int publishedAvail;
    private int availAtLastKickDecision;
    private int lastUsed;
    private int collapseTarget = -1;
    private int collapseLength;
    private String deviceFault;

    /**
     * Lays out a fresh queue: zeroes the three ring areas and builds the free list.
     *
     * @param indirectPoolGpa    where the indirect tables live ({@code size * maxIndirectEntries * 16} bytes),
     *                           ignored unless {@code useIndirect}
     * @param maxIndirectEntries the most segments one indirect table holds
     * @param useIndirect        put multi-segment buffers in indirect tables (needs VIRTIO_F_INDIRECT_DESC)
     */
    public SplitDriverQueue(final QueueConfig config, final DmaSpace memory, final long indirectPoolGpa,
                            final int maxIndirectEntries, final boolean useIndirect) {
        RingAreas.checkSize(config.size(), true);
        if (useIndirect && !config.indirect()) {
            throw new IllegalArgumentException("indirect tables need VIRTIO_F_INDIRECT_DESC");
        }
        this.config = config;
        this.size = config.size();
        this.mask = size - 1;
        this.eventIdx = config.eventIdx();
        this.inOrder = config.inOrder();
        this.useIndirect = useIndirect;
        this.maxIndirectEntries = maxIndirectEntries;
        this.indirectPoolGpa = indirectPoolGpa;
        this.descTable = RingAreas.map(memory, "descriptor table", config.descGpa(), descTableBytes(size), DESC_ALIGN,
                AccessMode.READ_WRITE);
        this.availRing = RingAreas.map(memory, "available ring", config.driverGpa(), availRingBytes(size), AVAIL_ALIGN,
                AccessMode.READ_WRITE);
        this.usedRing = RingAreas.map(memory, "used ring", config.deviceGpa(), usedRingBytes(size), USED_ALIGN,
                AccessMode.READ_WRITE);
        this.indirectPool = useIndirect ? memory.translate(indirectPoolGpa,
                (long) size * maxIndirectEntries * DESC_BYTES, AccessMode.READ_WRITE) : null;
        this.usedEventOffset = SplitRing.usedEventOffset(size);
        this.availEventOffset = SplitRing.availEventOffset(size);
        descTable.fill((byte) 0);
        availRing.fill((byte) 0);
        usedRing.fill((byte) 0);
        this.freeNext = new int[size];
        this.chainNext = new int[size];
        this.chainLength = new int[size];
        this.tokenOf = new int[size];
        this.writableBytesOf = new long[size];
        this.inFlight = new boolean[size];
        this.submitOrder = new int[size];
        for (int i = 0; i < size; i++) {
            freeNext[i] = i + 1;
        }
        Arrays.fill(chainNext, -1);
        freeHead = 0;
        freeTail = size - 1;
        freeCount = size;
    }

    @Override
    public QueueConfig config() {
        return config;
    }

    @Override
    public int freeDescriptors() {
        return freeCount;
    }

    private int allocate() {
        final int descriptor = freeHead;
        freeHead = freeNext[descriptor];
        freeCount--;
        return descriptor;
    }

    private void release(final int descriptor) {
        if (freeCount == 0) {
            freeHead = descriptor;
        } else {
            freeNext[freeTail] = descriptor;
        }
        freeTail = descriptor;
        freeCount++;
    }

    @Override
    public boolean add(final long[] gpas, final int[] lengths, final int readableCount, final int writableCount,
                       final int token) {
        final int segments = readableCount + writableCount;
        if (segments < 1 || segments > gpas.length || segments > lengths.length) {
            throw new IllegalArgumentException("a buffer needs 1.." + gpas.length + " segments: " + segments);
        }
        if (deviceFault != null) {
            return false;
        }
        final boolean indirectBuffer = useIndirect && segments > 1 && segments <= maxIndirectEntries;
        final int needed = indirectBuffer ? 1 : segments;
        if (freeCount < needed) {
            return false;
        }
        long writable = 0;
        for (int i = readableCount; i < segments; i++) {
            writable += Integer.toUnsignedLong(lengths[i]);
        }
        final int head;
        if (indirectBuffer) {
            head = allocate();
            final long tableOffset = (long) head * maxIndirectEntries * DESC_BYTES;
            for (int i = 0; i < segments; i++) {
                final boolean last = i == segments - 1;
                writeDescriptor(indirectPool, tableOffset + (long) i * DESC_BYTES, gpas[i], lengths[i],
                        (i >= readableCount ? F_WRITE : 0) | (last ? 0 : F_NEXT), last ? 0 : i + 1);
            }
            writeDescriptor(descTable, (long) head * DESC_BYTES, indirectPoolGpa + tableOffset, segments * DESC_BYTES,
                    F_INDIRECT, 0);
            chainNext[head] = -1;
            chainLength[head] = 1;
        } else {
            head = allocate();
            int current = head;
            for (int i = 0; i < segments; i++) {
                final boolean last = i == segments - 1;
                final int next = last ? -1 : freeHead;
                writeDescriptor(descTable, (long) current * DESC_BYTES, gpas[i], lengths[i],
                        (i >= readableCount ? F_WRITE : 0) | (last ? 0 : F_NEXT), last ? 0 : next);
                chainNext[current] = next;
                if (!last) {
                    current = allocate();
                }
            }
            chainLength[head] = segments;
        }
        tokenOf[head] = token;
        writableBytesOf[head] = writable;
        inFlight[head] = true;
        submitOrder[orderTail] = head;
        orderTail = (orderTail + 1) & mask;
        availRing.set(LittleEndian.U16, AVAIL_RING + 2L * (availIdx & mask), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        return true;
    }

    private static void writeDescriptor(final MemorySegment table, final long at, final long gpa, final int length,
                                        final int flags, final int next) {
        table.set(LittleEndian.U64, at + DESC_ADDR, gpa);
        table.set(LittleEndian.U32, at + DESC_LEN, length);
        table.set(LittleEndian.U16, at + DESC_FLAGS, (short) flags);
        table.set(LittleEndian.U16, at + DESC_NEXT, (short) next);
    }

    @Override
    public void publish() {
        if (availIdx != publishedAvail) {
            LittleEndian.U16_ATOMIC.setRelease(availRing, (long) AVAIL_IDX, (short) availIdx);
            publishedAvail = availIdx;
        }
    }

    @Override
    public boolean needsKick() {
        final int old = availAtLastKickDecision;
        final int now = publishedAvail;
        if (old == now) {
            return false;
        }
        availAtLastKickDecision = now;
        // The available index store must be visible before avail_event or the used flags are read.
        VarHandle.fullFence();
        if (eventIdx) {
            return SplitRing.needsEvent(usedRing.get(LittleEndian.U16, availEventOffset) & 0xFFFF, now, old);
        }
        return (usedRing.get(LittleEndian.U16, USED_FLAGS) & USED_F_NO_NOTIFY) == 0;
    }

    @Override
    public int reap(final int[] tokens, final int[] lengths, final int max) {
        if (deviceFault != null) {
            return 0;
        }
        final int limit = Math.min(max, Math.min(tokens.length, lengths.length));
        final int usedIdx = (short) LittleEndian.U16_ATOMIC.getAcquire(usedRing, (long) USED_IDX) & 0xFFFF;
        if (((usedIdx - lastUsed) & 0xFFFF) > size) {
            deviceFault = "used index jumped from " + lastUsed + " to " + usedIdx;
            return 0;
        }
        int count = 0;
        while (count < limit && lastUsed != usedIdx) {
            final int id;
            final int length;
            if (collapseTarget >= 0) {
                id = submitOrder[orderHead];
                length = id == collapseTarget ? collapseLength : (int) writableBytesOf[id];
            } else {
                final long at = USED_RING + (long) USED_ELEM_BYTES * (lastUsed & mask);
                final int usedId = usedRing.get(LittleEndian.U32, at);
                final int usedLength = usedRing.get(LittleEndian.U32, at + 4);
                if (usedId < 0 || usedId >= size || !inFlight[usedId]) {
                    deviceFault = "used id " + Integer.toUnsignedString(usedId) + " is not a buffer in flight";
                    return count;
                }
                if (Integer.toUnsignedLong(usedLength) > writableBytesOf[usedId]) {
                    deviceFault = "used length " + Integer.toUnsignedString(usedLength) + " exceeds the "
                            + writableBytesOf[usedId] + " writable bytes of buffer " + usedId;
                    return count;
                }
                if (inOrder && submitOrder[orderHead] != usedId) {
                    collapseTarget = usedId;
                    collapseLength = usedLength;
                    continue;
                }
                id = usedId;
                length = usedLength;
            }
            if (inOrder && id == collapseTarget) {
                collapseTarget = -1;
            }
            tokens[count] = tokenOf[id];
            lengths[count] = length;
            count++;
            complete(id);
            lastUsed = (lastUsed + 1) & 0xFFFF;
        }
        return count;
    }

    private void complete(final int head) {
        inFlight[head] = false;
        if (inOrder) {
            orderHead = (orderHead + 1) & mask;
        }
        int descriptor = head;
        for (int i = 0; i < chainLength[head]; i++) {
            final int next = chainNext[descriptor];
            release(descriptor);
            descriptor = next;
        }
    }

    @Override
    public void disableInterrupts() {
        if (eventIdx) {
            availRing.set(LittleEndian.U16, usedEventOffset, (short) (lastUsed - 1));
        } else {
            availRing.set(LittleEndian.U16, AVAIL_FLAGS, (short) AVAIL_F_NO_INTERRUPT);
        }
    }

    @Override
    public boolean enableInterrupts() {
        if (eventIdx) {
            availRing.set(LittleEndian.U16, usedEventOffset, (short) lastUsed);
        } else {
            availRing.set(LittleEndian.U16, AVAIL_FLAGS, (short) 0);
        }
        // The enable must be visible before the used index is re-read, or an interrupt can be lost.
        VarHandle.fullFence();
        return ((short) LittleEndian.U16_ATOMIC.getAcquire(usedRing, (long) USED_IDX) & 0xFFFF) != lastUsed;
    }

    @Override
    public String deviceFault() {
        return deviceFault;
    }
}

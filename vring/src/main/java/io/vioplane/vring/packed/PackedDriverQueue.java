package io.vioplane.vring.packed;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.RingAreas;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.vioplane.vring.packed.PackedRing.*;

/**
 * The driver side of a packed virtqueue (VIRTIO 1.x section 2.8.21: supplying buffers; 2.8.22: receiving
 * used buffers).
 *
 * <p>Each buffer gets a buffer id from a first-in first-out pool kept in Java memory; its descriptors are
 * written at the driver's position and the first one's flags are released last, so the device never sees a
 * partial chain. With {@code useIndirect}, a buffer of two or more segments takes one ring descriptor that
 * points at its own table in a pool the caller provides. Reaping checks the device's used id and length; under
 * IN_ORDER a used descriptor may stand for a whole batch, and earlier buffers are then reported with their
 * full writable length. {@link #publish()} is a no-op for this layout: each add is visible at once.
 */
public final class PackedDriverQueue implements DriverQueue {
    private final QueueConfig config;
    private final int size;
    private final boolean eventIdx;
    private final boolean inOrder;
    private final boolean useIndirect;
    private final int maxIndirectEntries;
    private final long indirectPoolGpa;
    private final MemorySegment indirectPool;
    private final MemorySegment ring;
    private final MemorySegment driverEvent;
    private final MemorySegment deviceEvent;

    private final int[] freeIds;
    private final int[] tokenOf;
    private final int[] slotsOf;
    private final long[] writableBytesOf;
    private final boolean[] inFlight;
    private final int[] submitOrder;
    private int freeIdHead;
    private int freeIdCount;
    private int orderHead;
    private int orderTail;
    private int slotsInFlight;

    private int nextAvail;
    private boolean availWrap = true;
    private int slotsSinceKickDecision;
    private int nextUsed;
    private boolean usedWrap = true;
    private int collapseTarget = -1;
    private int collapseLength;
    private String deviceFault;

    /**
     * Lays out a fresh queue: zeroes the ring and both event-suppression structures.
     *
     * @param indirectPoolGpa    where the indirect tables live ({@code size * maxIndirectEntries * 16} bytes),
     *                           ignored unless {@code useIndirect}
     * @param maxIndirectEntries the most segments one indirect table holds
     * @param useIndirect        put multi-segment buffers in indirect tables (needs VIRTIO_F_INDIRECT_DESC)
     */
    public PackedDriverQueue(final QueueConfig config, final DmaSpace memory, final long indirectPoolGpa,
                             final int maxIndirectEntries, final boolean useIndirect) {
        RingAreas.checkSize(config.size(), false);
        if (useIndirect && !config.indirect()) {
            throw new IllegalArgumentException("indirect tables need VIRTIO_F_INDIRECT_DESC");
        }
        this.config = config;
        this.size = config.size();
        this.eventIdx = config.eventIdx();
        this.inOrder = config.inOrder();
        this.useIndirect = useIndirect;
        this.maxIndirectEntries = maxIndirectEntries;
        this.indirectPoolGpa = indirectPoolGpa;
        this.ring = RingAreas.map(memory, "descriptor ring", config.descGpa(), (long) DESC_BYTES * size, DESC_ALIGN,
                AccessMode.READ_WRITE);
        this.driverEvent = RingAreas.map(memory, "driver event suppression", config.driverGpa(), EVENT_BYTES,
                EVENT_ALIGN, AccessMode.READ_WRITE);
        this.deviceEvent = RingAreas.map(memory, "device event suppression", config.deviceGpa(), EVENT_BYTES,
                EVENT_ALIGN, AccessMode.READ_WRITE);
        this.indirectPool = useIndirect ? memory.translate(indirectPoolGpa,
                (long) size * maxIndirectEntries * DESC_BYTES, AccessMode.READ_WRITE) : null;
        ring.fill((byte) 0);
        driverEvent.fill((byte) 0);
        deviceEvent.fill((byte) 0);
        this.freeIds = new int[size];
        this.tokenOf = new int[size];
        this.slotsOf = new int[size];
        this.writableBytesOf = new long[size];
        this.inFlight = new boolean[size];
        this.submitOrder = new int[size];
        for (int i = 0; i < size; i++) {
            freeIds[i] = i;
        }
        freeIdCount = size;
    }

    @Override
    public QueueConfig config() {
        return config;
    }

    @Override
    public int freeDescriptors() {
        return size - slotsInFlight;
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
        final int slots = indirectBuffer ? 1 : segments;
        if (size - slotsInFlight < slots || freeIdCount == 0) {
            return false;
        }
        final int id = freeIds[freeIdHead];
        freeIdHead = freeIdHead + 1 == size ? 0 : freeIdHead + 1;
        freeIdCount--;
        long writable = 0;
        for (int i = readableCount; i < segments; i++) {
            writable += Integer.toUnsignedLong(lengths[i]);
        }
        final long firstAt = (long) nextAvail * DESC_BYTES;
        final int firstFlags;
        if (indirectBuffer) {
            final long tableOffset = (long) id * maxIndirectEntries * DESC_BYTES;
            for (int i = 0; i < segments; i++) {
                final long at = tableOffset + (long) i * DESC_BYTES;
                indirectPool.set(LittleEndian.U64, at + DESC_ADDR, gpas[i]);
                indirectPool.set(LittleEndian.U32, at + DESC_LEN, lengths[i]);
                indirectPool.set(LittleEndian.U16, at + DESC_ID, (short) 0);
                indirectPool.set(LittleEndian.U16, at + DESC_FLAGS, (short) (i >= readableCount ? F_WRITE : 0));
            }
            ring.set(LittleEndian.U64, firstAt + DESC_ADDR, indirectPoolGpa + tableOffset);
            ring.set(LittleEndian.U32, firstAt + DESC_LEN, segments * DESC_BYTES);
            ring.set(LittleEndian.U16, firstAt + DESC_ID, (short) id);
            firstFlags = F_INDIRECT | availableBits(availWrap);
            advance();
        } else {
            int flags0 = 0;
            for (int i = 0; i < segments; i++) {
                final boolean last = i == segments - 1;
                final long at = (long) nextAvail * DESC_BYTES;
                ring.set(LittleEndian.U64, at + DESC_ADDR, gpas[i]);
                ring.set(LittleEndian.U32, at + DESC_LEN, lengths[i]);
                ring.set(LittleEndian.U16, at + DESC_ID, (short) id);
                final int flags = (i >= readableCount ? F_WRITE : 0) | (last ? 0 : F_NEXT) | availableBits(availWrap);
                if (i == 0) {
                    flags0 = flags;
                } else {
                    ring.set(LittleEndian.U16, at + DESC_FLAGS, (short) flags);
                }
                advance();
            }
            firstFlags = flags0;
        }
        LittleEndian.U16_ATOMIC.setRelease(ring, firstAt + DESC_FLAGS, (short) firstFlags);
        tokenOf[id] = token;
        slotsOf[id] = slots;
        writableBytesOf[id] = writable;
        inFlight[id] = true;
        slotsInFlight += slots;
        slotsSinceKickDecision += slots;
        submitOrder[orderTail] = id;
        orderTail = orderTail + 1 == size ? 0 : orderTail + 1;
        return true;
    }

    private void advance() {
        if (++nextAvail == size) {
            nextAvail = 0;
            availWrap = !availWrap;
        }
    }

    @Override
    public void publish() {
        // Each add is visible at once: the first descriptor's flags are stored with release.
    }

    @Override
    public boolean needsKick() {
        final int advanced = slotsSinceKickDecision;
        if (advanced == 0) {
            return false;
        }
        slotsSinceKickDecision = 0;
        // The descriptors must be visible before the device's event suppression is read.
        VarHandle.fullFence();
        final int flags = deviceEvent.get(LittleEndian.U16, EVENT_FLAGS) & 0x3;
        if (flags == EVENT_DISABLE) {
            return false;
        }
        if (flags != EVENT_DESC || !eventIdx || advanced >= size) {
            return true;
        }
        final int offWrap = deviceEvent.get(LittleEndian.U16, EVENT_OFF_WRAP) & 0xFFFF;
        return needsEvent(offWrap & 0x7FFF, (offWrap & 0x8000) != 0, nextAvail, availWrap, advanced, size);
    }

    @Override
    public int reap(final int[] tokens, final int[] lengths, final int max) {
        final int limit = Math.min(max, Math.min(tokens.length, lengths.length));
        int count = 0;
        while (count < limit && deviceFault == null) {
            final int id;
            final int length;
            if (collapseTarget >= 0) {
                id = submitOrder[orderHead];
                length = id == collapseTarget ? collapseLength : (int) writableBytesOf[id];
            } else {
                final long at = (long) nextUsed * DESC_BYTES;
                final int flags = (short) LittleEndian.U16_ATOMIC.getAcquire(ring, at + DESC_FLAGS) & 0xFFFF;
                if (!isUsed(flags, usedWrap)) {
                    break;
                }
                final int usedId = ring.get(LittleEndian.U16, at + DESC_ID) & 0xFFFF;
                final int usedLength = (flags & F_WRITE) != 0 ? ring.get(LittleEndian.U32, at + DESC_LEN) : 0;
                if (usedId >= size || !inFlight[usedId]) {
                    deviceFault = "used buffer id " + usedId + " is not a buffer in flight";
                    break;
                }
                if (Integer.toUnsignedLong(usedLength) > writableBytesOf[usedId]) {
                    deviceFault = "used length " + Integer.toUnsignedString(usedLength) + " exceeds the "
                            + writableBytesOf[usedId] + " writable bytes of buffer " + usedId;
                    break;
                }
                if (inOrder && submitOrder[orderHead] != usedId) {
                    collapseTarget = usedId;
                    collapseLength = usedLength;
                    continue;
                }
                id = usedId;
                length = usedLength;
            }
            if (id == collapseTarget) {
                collapseTarget = -1;
            }
            tokens[count] = tokenOf[id];
            lengths[count] = length;
            count++;
            complete(id);
        }
        return count;
    }

    private void complete(final int id) {
        inFlight[id] = false;
        orderHead = orderHead + 1 == size ? 0 : orderHead + 1;
        nextUsed += slotsOf[id];
        if (nextUsed >= size) {
            nextUsed -= size;
            usedWrap = !usedWrap;
        }
        slotsInFlight -= slotsOf[id];
        final int tail = freeIdHead + freeIdCount;
        freeIds[tail >= size ? tail - size : tail] = id;
        freeIdCount++;
    }

    @Override
    public void disableInterrupts() {
        driverEvent.set(LittleEndian.U16, EVENT_FLAGS, (short) EVENT_DISABLE);
    }

    @Override
    public boolean enableInterrupts() {
        if (eventIdx) {
            driverEvent.set(LittleEndian.U16, EVENT_OFF_WRAP, (short) (nextUsed | (usedWrap ? 0x8000 : 0)));
            driverEvent.set(LittleEndian.U16, EVENT_FLAGS, (short) EVENT_DESC);
        } else {
            driverEvent.set(LittleEndian.U16, EVENT_FLAGS, (short) EVENT_ENABLE);
        }
        // The enable must be visible before the next used descriptor is re-read, or an interrupt can be lost.
        VarHandle.fullFence();
        final int flags = (short) LittleEndian.U16_ATOMIC.getAcquire(ring, (long) nextUsed * DESC_BYTES + DESC_FLAGS);
        return isUsed(flags & 0xFFFF, usedWrap);
    }

    @Override
    public String deviceFault() {
        return deviceFault;
    }
}

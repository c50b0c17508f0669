package io.vioplane.vring.split;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.QueueState;
import io.vioplane.vring.RingAreas;
import io.vioplane.vring.RingViolation;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.vioplane.vring.split.SplitRing.*;

/**
 * The device side of a split virtqueue (VIRTIO 1.x section 2.7).
 *
 * <p>Ring areas are checked once at construction and then indexed with {@code position & (size - 1)}. The
 * available index is read with acquire and checked against the device's position before any entry it
 * publishes is read ({@link RingViolation#AVAIL_INDEX_JUMP}); each head and next index is read once into a
 * local and checked against the table it indexes; a chain may visit at most {@code size} descriptors of the
 * main table and at most the length of its indirect table, which bounds loops; indirect tables must be
 * non-empty multiples of 16 bytes, at most {@code size} entries, inside guest memory and not nested.
 *
 * <p>Used elements are written as they are added and published by one release store of the used index.
 */
public final class SplitDeviceQueue implements DeviceQueue {
    private final QueueConfig config;
    private final int size;
    private final int mask;
    private final boolean eventIdx;
    private final boolean indirect;
    private final boolean inOrder;
    private final long usedEventOffset;
    private final long availEventOffset;
    private final DmaRange range = new DmaRange();

    private DmaSpace memory;
    private MemorySegment descTable;
    private MemorySegment availRing;
    private MemorySegment usedRing;

    private int nextAvail;
    private int cachedAvailIdx;
    private int nextUsed;
    private int publishedUsed;
    private int usedAtLastInterruptDecision;
    private int inFlight;
    private boolean notificationsEnabled = true;
    private boolean collapseInOrder;
    private int collapsedCount;
    private int collapsedId;
    private int collapsedLength;
    private RingViolation violation;
    private DirtyPageLog dirtyLog = DirtyPageLog.NONE;
    private long usedLogGpa;
    private boolean awaitingTranslation;

    /**
     * Checks the configuration and maps the three ring areas.
     *
     * @throws io.vioplane.vring.QueueConfigException if the size or an area is unacceptable
     */
    public SplitDeviceQueue(final QueueConfig config, final DmaSpace memory) {
        RingAreas.checkSize(config.size(), true);
        this.config = config;
        this.size = config.size();
        this.mask = size - 1;
        this.eventIdx = config.eventIdx();
        this.indirect = config.indirect();
        this.inOrder = config.inOrder();
        this.usedEventOffset = SplitRing.usedEventOffset(size);
        this.availEventOffset = SplitRing.availEventOffset(size);
        remap(memory);
    }

    @Override
    public void remap(final DmaSpace newMemory) {
        final MemorySegment desc = RingAreas.map(newMemory, "descriptor table", config.descGpa(), descTableBytes(size),
                DESC_ALIGN, AccessMode.READ);
        final MemorySegment avail = RingAreas.map(newMemory, "available ring", config.driverGpa(), availRingBytes(size),
                AVAIL_ALIGN, AccessMode.READ);
        final MemorySegment used = RingAreas.map(newMemory, "used ring", config.deviceGpa(), usedRingBytes(size),
                USED_ALIGN, AccessMode.READ_WRITE);
        this.memory = newMemory;
        this.descTable = desc;
        this.availRing = avail;
        this.usedRing = used;
    }

    @Override
    public QueueConfig config() {
        return config;
    }

    private int availIdxAcquire() {
        return (short) LittleEndian.U16_ATOMIC.getAcquire(availRing, (long) AVAIL_IDX) & 0xFFFF;
    }

    private RingViolation breakQueue(final RingViolation why) {
        if (violation == null) {
            violation = why;
        }
        return why;
    }

    @Override
    public boolean pop(final DescriptorChain chain) {
        if (violation != null) {
            return false;
        }
        if (nextAvail == cachedAvailIdx) {
            final int availIdx = availIdxAcquire();
            final int pending = (availIdx - nextAvail) & 0xFFFF;
            if (pending > size) {
                breakQueue(RingViolation.AVAIL_INDEX_JUMP);
                return false;
            }
            cachedAvailIdx = availIdx;
            if (pending == 0) {
                return false;
            }
        }
        final int head = availRing.get(LittleEndian.U16, AVAIL_RING + 2L * (nextAvail & mask)) & 0xFFFF;
        if (!walkOrBreak(head, chain)) {
            return false;
        }
        awaitingTranslation = chain.translationPending();
        if (awaitingTranslation) {
            return false;
        }
        nextAvail = (nextAvail + 1) & 0xFFFF;
        inFlight++;
        if (eventIdx && notificationsEnabled) {
            usedRing.set(LittleEndian.U16, availEventOffset, (short) nextAvail);
            dirtyLog.mark(usedLogGpa + availEventOffset, 2);
        }
        return true;
    }

    @Override
    public boolean popHead(final int head, final DescriptorChain chain) {
        if (violation != null) {
            return false;
        }
        if (!walkOrBreak(head, chain)) {
            return false;
        }
        inFlight++;
        return true;
    }

    /** Walks the chain at {@code head} into {@code chain}; @return false, with the queue broken, if it is bad */
    private boolean walkOrBreak(final int head, final DescriptorChain chain) {
        if (head < 0 || head >= size) {
            breakQueue(RingViolation.HEAD_OUT_OF_RANGE);
            return false;
        }
        final RingViolation walked = walk(head, chain);
        if (walked != null) {
            breakQueue(walked);
            return false;
        }
        return true;
    }

    private RingViolation walk(final int head, final DescriptorChain chain) {
        chain.begin(head);
        chain.setRingSlots(1);
        MemorySegment table = descTable;
        long tableBase = 0;
        int tableEntries = size;
        int budget = size;
        boolean inIndirect = false;
        int index = head;
        while (true) {
            if (budget-- == 0) {
                return RingViolation.CHAIN_LOOP;
            }
            final long at = tableBase + (long) index * DESC_BYTES;
            final long addr = table.get(LittleEndian.U64, at + DESC_ADDR);
            final int len = table.get(LittleEndian.U32, at + DESC_LEN);
            final int flags = table.get(LittleEndian.U16, at + DESC_FLAGS) & 0xFFFF;
            final int next = table.get(LittleEndian.U16, at + DESC_NEXT) & 0xFFFF;
            if ((flags & F_INDIRECT) != 0) {
                if (inIndirect) {
                    return RingViolation.INDIRECT_NESTED;
                }
                if (!indirect) {
                    return RingViolation.INDIRECT_NOT_NEGOTIATED;
                }
                if ((flags & F_NEXT) != 0) {
                    return RingViolation.INDIRECT_WITH_NEXT;
                }
                final long tableBytes = Integer.toUnsignedLong(len);
                if (tableBytes == 0 || tableBytes % DESC_BYTES != 0 || tableBytes / DESC_BYTES > size) {
                    return RingViolation.INDIRECT_BAD_LENGTH;
                }
                if (!memory.resolve(addr, tableBytes, AccessMode.READ, range)) {
                    return chain.refused(memory.refusal()) == null ? null : RingViolation.INDIRECT_OUT_OF_RANGE;
                }
                table = range.segment();
                tableBase = range.offset();
                tableEntries = (int) (tableBytes / DESC_BYTES);
                budget = tableEntries;
                inIndirect = true;
                index = 0;
                continue;
            }
            final RingViolation added = chain.addSegment(addr, len, (flags & F_WRITE) != 0, memory);
            if (added != null) {
                return added;
            }
            if ((flags & F_NEXT) == 0) {
                return null;
            }
            if (next >= tableEntries) {
                return RingViolation.NEXT_OUT_OF_RANGE;
            }
            index = next;
        }
    }

    @Override
    public void rewind(final DescriptorChain lastPopped) {
        if (inFlight == 0) {
            throw new IllegalStateException("nothing popped to rewind");
        }
        nextAvail = (nextAvail - 1) & 0xFFFF;
        inFlight--;
    }

    @Override
    public boolean hasAvailable() {
        return violation == null && (nextAvail != cachedAvailIdx || availIdxAcquire() != nextAvail);
    }

    @Override
    public void addUsed(final int id, final int ringSlots, final int writtenBytes) {
        if (inFlight == 0) {
            throw new IllegalStateException("device used more chains than it took (id " + id + ")");
        }
        inFlight--;
        if (collapseInOrder && inOrder) {
            collapsedCount++;
            collapsedId = id;
            collapsedLength = writtenBytes;
            return;
        }
        final long at = USED_RING + (long) USED_ELEM_BYTES * (nextUsed & mask);
        usedRing.set(LittleEndian.U32, at, id);
        usedRing.set(LittleEndian.U32, at + 4, writtenBytes);
        dirtyLog.mark(usedLogGpa + at, USED_ELEM_BYTES);
        nextUsed = (nextUsed + 1) & 0xFFFF;
    }

    @Override
    public void publishUsed() {
        if (collapsedCount > 0) {
            final long at = USED_RING + (long) USED_ELEM_BYTES * (nextUsed & mask);
            usedRing.set(LittleEndian.U32, at, collapsedId);
            usedRing.set(LittleEndian.U32, at + 4, collapsedLength);
            dirtyLog.mark(usedLogGpa + at, USED_ELEM_BYTES);
            nextUsed = (nextUsed + collapsedCount) & 0xFFFF;
            collapsedCount = 0;
        }
        if (nextUsed != publishedUsed) {
            LittleEndian.U16_ATOMIC.setRelease(usedRing, (long) USED_IDX, (short) nextUsed);
            dirtyLog.mark(usedLogGpa + USED_IDX, 2);
            publishedUsed = nextUsed;
        }
    }

    @Override
    public boolean needsInterrupt() {
        final int old = usedAtLastInterruptDecision;
        final int now = publishedUsed;
        if (old == now) {
            return false;
        }
        usedAtLastInterruptDecision = now;
        // The used index store above must be visible before the driver's used_event or flags are read.
        VarHandle.fullFence();
        if (eventIdx) {
            final int usedEvent = availRing.get(LittleEndian.U16, usedEventOffset) & 0xFFFF;
            return SplitRing.needsEvent(usedEvent, now, old);
        }
        return (availRing.get(LittleEndian.U16, AVAIL_FLAGS) & AVAIL_F_NO_INTERRUPT) == 0;
    }

    @Override
    public void disableNotifications() {
        notificationsEnabled = false;
        if (!eventIdx) {
            usedRing.set(LittleEndian.U16, USED_FLAGS, (short) USED_F_NO_NOTIFY);
            dirtyLog.mark(usedLogGpa + USED_FLAGS, 2);
        }
    }

    @Override
    public boolean enableNotifications() {
        notificationsEnabled = true;
        if (eventIdx) {
            usedRing.set(LittleEndian.U16, availEventOffset, (short) nextAvail);
            dirtyLog.mark(usedLogGpa + availEventOffset, 2);
        } else {
            usedRing.set(LittleEndian.U16, USED_FLAGS, (short) 0);
            dirtyLog.mark(usedLogGpa + USED_FLAGS, 2);
        }
        // The enable must be visible before the available index is re-read, or a kick can be lost.
        VarHandle.fullFence();
        return violation == null && availIdxAcquire() != nextAvail;
    }

    @Override
    public void setCollapseInOrder(final boolean collapse) {
        if (!collapse && collapsedCount > 0) {
            publishUsed();
        }
        this.collapseInOrder = collapse;
    }

    @Override
    public boolean awaitingTranslation() {
        return awaitingTranslation;
    }

    @Override
    public RingViolation violation() {
        return violation;
    }

    @Override
    public QueueState state() {
        return QueueState.split(nextAvail, nextUsed);
    }

    @Override
    public void restore(final QueueState state) {
        nextAvail = state.nextAvailIndex() & 0xFFFF;
        cachedAvailIdx = nextAvail;
        nextUsed = state.nextUsedIndex() & 0xFFFF;
        publishedUsed = nextUsed;
        usedAtLastInterruptDecision = nextUsed;
        inFlight = (nextAvail - nextUsed) & 0xFFFF;
        collapsedCount = 0;
        violation = null;
    }

    @Override
    public QueueState resume(final int vringBase) {
        final int usedInRing = usedIndexInRing();
        final QueueState state = QueueState.split(usedInRing, usedInRing);
        restore(state);
        return state;
    }

    /** @return the used index the driver currently sees in the used ring (to resume after a reconnect) */
    public int usedIndexInRing() {
        return (short) LittleEndian.U16_ATOMIC.getAcquire(usedRing, (long) USED_IDX) & 0xFFFF;
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public void setDirtyLog(final DirtyPageLog log, final long usedRingLogGpa) {
        this.dirtyLog = log;
        this.usedLogGpa = usedRingLogGpa;
    }

    @Override
    public String toString() {
        return "SplitDeviceQueue[size=" + size + ", nextAvail=" + nextAvail + ", nextUsed=" + nextUsed
                + (violation == null ? "" : ", broken: " + violation.description()) + "]";
    }
}

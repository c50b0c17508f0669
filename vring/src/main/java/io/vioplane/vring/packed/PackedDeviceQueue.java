package io.vioplane.vring.packed;

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

import static io.vioplane.vring.packed.PackedRing.*;

/**
 * The device side of a packed virtqueue (VIRTIO 1.x section 2.8).
 *
 * <p>The device polls one location, the descriptor at its available position: its flags are read with
 * acquire, and a chain is taken only if every descriptor of it is available in the expected wrap (the
 * driver exposes the first one last), at most {@code size} descriptors long, with a buffer id below
 * {@code size}. An indirect descriptor must stand alone (no NEXT, not after a NEXT); its table is read
 * sequentially, at most {@code size} entries, none of them indirect.
 *
 * <p>Used descriptors are written at the device's used position in completion order; a batch is published by
 * writing every used descriptor but the first, then the first one's flags with release, so the driver never
 * sees a partial batch (section 2.8.7). Ring sizes need not be powers of two.
 */
public final class PackedDeviceQueue implements DeviceQueue {
    private final QueueConfig config;
    private final int size;
    private final boolean eventIdx;
    private final boolean indirect;
    private final boolean inOrder;
    private final DmaRange range = new DmaRange();
    private final int[] pendingIds;
    private final int[] pendingLengths;
    private final int[] pendingSlots;

    private boolean awaitingTranslation;
    private DmaSpace memory;
    private MemorySegment ring;
    private MemorySegment driverEvent;
    private MemorySegment deviceEvent;

    private int nextAvail;
    private boolean availWrap = true;
    private int nextUsed;
    private boolean usedWrap = true;
    private int pendingCount;
    private int slotsSinceInterruptDecision;
    private int inFlight;
    private boolean collapseInOrder;
    private int collapsedSlots;
    private int collapsedId;
    private int collapsedLength;
    private RingViolation violation;
    private DirtyPageLog dirtyLog = DirtyPageLog.NONE;

    /**
     * Checks the configuration and maps the ring and both event-suppression structures.
     *
     * @throws io.vioplane.vring.QueueConfigException if the size or an area is unacceptable
     */
    public PackedDeviceQueue(final QueueConfig config, final DmaSpace memory) {
        RingAreas.checkSize(config.size(), false);
        this.config = config;
        this.size = config.size();
        this.eventIdx = config.eventIdx();
        this.indirect = config.indirect();
        this.inOrder = config.inOrder();
        this.pendingIds = new int[size];
        this.pendingLengths = new int[size];
        this.pendingSlots = new int[size];
        remap(memory);
    }

    @Override
    public void remap(final DmaSpace newMemory) {
        final MemorySegment newRing = RingAreas.map(newMemory, "descriptor ring", config.descGpa(),
                (long) DESC_BYTES * size, DESC_ALIGN, AccessMode.READ_WRITE);
        final MemorySegment newDriverEvent = RingAreas.map(newMemory, "driver event suppression", config.driverGpa(),
                EVENT_BYTES, EVENT_ALIGN, AccessMode.READ);
        final MemorySegment newDeviceEvent = RingAreas.map(newMemory, "device event suppression", config.deviceGpa(),
                EVENT_BYTES, EVENT_ALIGN, AccessMode.READ_WRITE);
        this.memory = newMemory;
        this.ring = newRing;
        this.driverEvent = newDriverEvent;
        this.deviceEvent = newDeviceEvent;
    }

    @Override
    public QueueConfig config() {
        return config;
    }

    private int flagsAcquire(final int position) {
        return (short) LittleEndian.U16_ATOMIC.getAcquire(ring, (long) position * DESC_BYTES + DESC_FLAGS) & 0xFFFF;
    }

    private void breakQueue(final RingViolation why) {
        if (violation == null) {
            violation = why;
        }
    }

    @Override
    public boolean pop(final DescriptorChain chain) {
        if (violation != null) {
            return false;
        }
        final int firstFlags = flagsAcquire(nextAvail);
        if (!isAvailable(firstFlags, availWrap)) {
            return false;
        }
        chain.begin(-1);
        int position = nextAvail;
        boolean wrap = availWrap;
        int flags = firstFlags;
        int slots = 0;
        int id;
        while (true) {
            if (slots == size) {
                breakQueue(RingViolation.CHAIN_LOOP);
                return false;
            }
            if (slots > 0) {
                flags = ring.get(LittleEndian.U16, (long) position * DESC_BYTES + DESC_FLAGS) & 0xFFFF;
                if (!isAvailable(flags, wrap)) {
                    breakQueue(RingViolation.PACKED_CHAIN_NOT_AVAILABLE);
                    return false;
                }
            }
            final long at = (long) position * DESC_BYTES;
            final long addr = ring.get(LittleEndian.U64, at + DESC_ADDR);
            final int len = ring.get(LittleEndian.U32, at + DESC_LEN);
            final int descriptorId = ring.get(LittleEndian.U16, at + DESC_ID) & 0xFFFF;
            slots++;
            if (++position == size) {
                position = 0;
                wrap = !wrap;
            }
            if ((flags & F_INDIRECT) != 0) {
                final RingViolation walked = walkIndirect(flags, slots, addr, len, chain);
                if (walked != null) {
                    breakQueue(walked);
                    return false;
                }
                id = descriptorId;
                break;
            }
            final RingViolation added = chain.addSegment(addr, len, (flags & F_WRITE) != 0, memory);
            if (added != null) {
                breakQueue(added);
                return false;
            }
            if ((flags & F_NEXT) == 0) {
                id = descriptorId;
                break;
            }
        }
        if (id >= size) {
            breakQueue(RingViolation.HEAD_OUT_OF_RANGE);
            return false;
        }
        awaitingTranslation = chain.translationPending();
        if (awaitingTranslation) {
            return false;
        }
        chain.setId(id);
        chain.setRingSlots(slots);
        nextAvail = position;
        availWrap = wrap;
        inFlight++;
        return true;
    }

    private RingViolation walkIndirect(final int flags, final int slots, final long addr, final int len,
                                       final DescriptorChain chain) {
        if (!indirect) {
            return RingViolation.INDIRECT_NOT_NEGOTIATED;
        }
        if ((flags & F_NEXT) != 0 || slots > 1) {
            return RingViolation.INDIRECT_WITH_NEXT;
        }
        final long tableBytes = Integer.toUnsignedLong(len);
        if (tableBytes == 0 || tableBytes % DESC_BYTES != 0 || tableBytes / DESC_BYTES > size) {
            return RingViolation.INDIRECT_BAD_LENGTH;
        }
        if (!memory.resolve(addr, tableBytes, AccessMode.READ, range)) {
            return chain.refused(memory.refusal()) == null ? null : RingViolation.INDIRECT_OUT_OF_RANGE;
        }
        final MemorySegment table = range.segment();
        final long base = range.offset();
        final int entries = (int) (tableBytes / DESC_BYTES);
        for (int i = 0; i < entries; i++) {
            final long at = base + (long) i * DESC_BYTES;
            final int entryFlags = table.get(LittleEndian.U16, at + DESC_FLAGS) & 0xFFFF;
            if ((entryFlags & F_INDIRECT) != 0) {
                return RingViolation.INDIRECT_NESTED;
            }
            final RingViolation added = chain.addSegment(table.get(LittleEndian.U64, at + DESC_ADDR),
                    table.get(LittleEndian.U32, at + DESC_LEN), (entryFlags & F_WRITE) != 0, memory);
            if (added != null) {
                return added;
            }
        }
        return null;
    }

    @Override
    public void rewind(final DescriptorChain lastPopped) {
        if (inFlight == 0) {
            throw new IllegalStateException("nothing popped to rewind");
        }
        nextAvail -= lastPopped.ringSlots();
        if (nextAvail < 0) {
            nextAvail += size;
            availWrap = !availWrap;
        }
        inFlight--;
    }

    @Override
    public boolean hasAvailable() {
        return violation == null && isAvailable(flagsAcquire(nextAvail), availWrap);
    }

    @Override
    public void addUsed(final int id, final int ringSlots, final int writtenBytes) {
        if (inFlight == 0) {
            throw new IllegalStateException("device used more chains than it took (id " + id + ")");
        }
        if (ringSlots < 1 || ringSlots > size) {
            throw new IllegalArgumentException("a chain occupies 1.." + size + " ring slots: " + ringSlots);
        }
        inFlight--;
        if (collapseInOrder && inOrder) {
            collapsedSlots += ringSlots;
            collapsedId = id;
            collapsedLength = writtenBytes;
            return;
        }
        pendingIds[pendingCount] = id;
        pendingLengths[pendingCount] = writtenBytes;
        pendingSlots[pendingCount] = ringSlots;
        pendingCount++;
    }

    @Override
    public void publishUsed() {
        if (collapsedSlots > 0) {
            pendingIds[pendingCount] = collapsedId;
            pendingLengths[pendingCount] = collapsedLength;
            pendingSlots[pendingCount] = collapsedSlots;
            pendingCount++;
            collapsedSlots = 0;
        }
        if (pendingCount == 0) {
            return;
        }
        int position = nextUsed;
        boolean wrap = usedWrap;
        long firstAt = -1;
        int firstFlags = 0;
        for (int k = 0; k < pendingCount; k++) {
            final long at = (long) position * DESC_BYTES;
            ring.set(LittleEndian.U16, at + DESC_ID, (short) pendingIds[k]);
            ring.set(LittleEndian.U32, at + DESC_LEN, pendingLengths[k]);
            dirtyLog.mark(config.descGpa() + at + DESC_LEN, 8);
            final int flags = usedBits(wrap) | (pendingLengths[k] != 0 ? F_WRITE : 0);
            if (k == 0) {
                firstAt = at;
                firstFlags = flags;
            } else {
                ring.set(LittleEndian.U16, at + DESC_FLAGS, (short) flags);
            }
            position += pendingSlots[k];
            slotsSinceInterruptDecision += pendingSlots[k];
            if (position >= size) {
                position -= size;
                wrap = !wrap;
            }
        }
        LittleEndian.U16_ATOMIC.setRelease(ring, firstAt + DESC_FLAGS, (short) firstFlags);
        nextUsed = position;
        usedWrap = wrap;
        pendingCount = 0;
    }

    @Override
    public boolean needsInterrupt() {
        final int advanced = slotsSinceInterruptDecision;
        if (advanced == 0) {
            return false;
        }
        slotsSinceInterruptDecision = 0;
        // The used descriptors must be visible before the driver's event suppression is read.
        VarHandle.fullFence();
        final int flags = driverEvent.get(LittleEndian.U16, EVENT_FLAGS) & 0x3;
        if (flags == EVENT_DISABLE) {
            return false;
        }
        if (flags != EVENT_DESC || !eventIdx || advanced >= size) {
            return true;
        }
        final int offWrap = driverEvent.get(LittleEndian.U16, EVENT_OFF_WRAP) & 0xFFFF;
        return needsEvent(offWrap & 0x7FFF, (offWrap & 0x8000) != 0, nextUsed, usedWrap, advanced, size);
    }

    @Override
    public void disableNotifications() {
        deviceEvent.set(LittleEndian.U16, EVENT_FLAGS, (short) EVENT_DISABLE);
        dirtyLog.mark(config.deviceGpa(), EVENT_BYTES);
    }

    @Override
    public boolean enableNotifications() {
        if (eventIdx) {
            deviceEvent.set(LittleEndian.U16, EVENT_OFF_WRAP, (short) (nextAvail | (availWrap ? 0x8000 : 0)));
            deviceEvent.set(LittleEndian.U16, EVENT_FLAGS, (short) EVENT_DESC);
        } else {
            deviceEvent.set(LittleEndian.U16, EVENT_FLAGS, (short) EVENT_ENABLE);
        }
        dirtyLog.mark(config.deviceGpa(), EVENT_BYTES);
        // The enable must be visible before the next descriptor's flags are re-read, or a kick can be lost.
        VarHandle.fullFence();
        return hasAvailable();
    }

    @Override
    public void setCollapseInOrder(final boolean collapse) {
        if (!collapse && collapsedSlots > 0) {
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
        return new QueueState(nextAvail, availWrap, nextUsed, usedWrap);
    }

    @Override
    public QueueState resume(final int vringBase) {
        final QueueState state;
        if ((vringBase >>> 16) == 0) {
            final int position = vringBase & 0x7FFF;
            final boolean wrap = (vringBase & 0x8000) != 0;
            state = new QueueState(position % size, wrap, position % size, wrap);
        } else {
            final QueueState decoded = QueueState.fromPackedVringBase(vringBase);
            state = new QueueState(decoded.nextAvailIndex() % size, decoded.availWrapCounter(),
                    decoded.nextUsedIndex() % size, decoded.usedWrapCounter());
        }
        restore(state);
        return state;
    }

    @Override
    public void restore(final QueueState state) {
        if (state.nextAvailIndex() >= size || state.nextUsedIndex() >= size) {
            throw new IllegalArgumentException("packed positions must be below the size " + size + ": " + state);
        }
        nextAvail = state.nextAvailIndex();
        availWrap = state.availWrapCounter();
        nextUsed = state.nextUsedIndex();
        usedWrap = state.usedWrapCounter();
        pendingCount = 0;
        collapsedSlots = 0;
        slotsSinceInterruptDecision = 0;
        inFlight = 0;
        violation = null;
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public void setDirtyLog(final DirtyPageLog log, final long usedRingLogGpa) {
        this.dirtyLog = log;
    }

    @Override
    public String toString() {
        return "PackedDeviceQueue[size=" + size + ", nextAvail=" + nextAvail + "/" + availWrap + ", nextUsed=" + nextUsed
                + "/" + usedWrap + (violation == null ? "" : ", broken: " + violation.description()) + "]";
    }
}

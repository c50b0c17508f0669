package io.vioplane.iommu;

import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;

/**
 * Queued invalidation (VT-d 3.x section 6.5.2): the unit fetches 128-bit descriptors from the queue at IQA,
 * from IQH up to IQT, and performs each. A bad tail (beyond the queue), an unreadable or unknown descriptor, a
 * descriptor with reserved bits set, or a wait descriptor whose status write fails stops the queue with FSTS.IQE
 * and IQH left on the offending descriptor, until software clears IQE. Each descriptor is read once and decoded
 * from those locals. The queue is processed synchronously when IQT is written, so every descriptor completes before
 * the next is fetched and the wait descriptor's fence (FN) holds trivially.
 *
 * <pre>
 *   type (lo 3..0)   lo                                           hi
 *   1 context-cache  G 5..4, DID 31..16, SID 47..32, FM 49..48    reserved
 *   2 IOTLB          G 5..4, DR 6, DW 7, DID 31..16               AM 5..0, IH 6, ADDR 63..12
 *   3 device-IOTLB   PFSID 15..12+63..52, MIP 20..16, SID 47..32  S 0, ADDR 63..12
 *   4 interrupt-entry-cache  G 4 (0 global), IM 31..27, IIDX 47..32   reserved
 *   5 wait           IF 4, SW 5, FN 6, status data 63..32         status address 63..2
 * </pre>
 */
final class InvalidationQueue {
    private static final long CONTEXT_RESERVED = 0xFFFC_0000_0000_FFC0L;
    private static final long IOTLB_RESERVED_LO = 0xFFFF_FFFF_0000_FF00L;
    private static final long IOTLB_RESERVED_HI = 0xF80L;
    private static final long DEVICE_IOTLB_RESERVED_LO = 0x000F_0000_FFE0_0FF0L;
    private static final long DEVICE_IOTLB_RESERVED_HI = 0xFFEL;
    private static final long INTERRUPT_ENTRY_RESERVED = 0xFFFF_0000_07FF_FFE0L;
    private static final long WAIT_RESERVED_LO = 0xFFFF_FF80L;
    private static final long WAIT_RESERVED_HI = 3L;

    private final VtdUnit unit;
    private final VtdRegisterFile registers;
    private final DmaSpace memory;

    InvalidationQueue(final VtdUnit unit, final VtdRegisterFile registers, final DmaSpace memory) {
        this.unit = unit;
        this.registers = registers;
        this.memory = memory;
    }

    /** Processes descriptors from IQH to IQT; stops at the first bad one with IQE. */
    void drain() {
        final int entries = registers.queueEntries();
        final int tail = registers.queueTailIndex();
        if (tail >= entries) {
            fail("guest set the invalidation queue tail " + tail + " beyond its " + entries + " entries");
            return;
        }
        int head = registers.queueHeadIndex();
        if (head >= entries) {
            head = 0;
        }
        for (int processed = 0; head != tail && processed < entries; processed++) {
            final long descriptorGpa = registers.queueBaseGpa() + 16L * head;
            final long lo;
            final long hi;
            try {
                lo = memory.getLong(descriptorGpa);
                hi = memory.getLong(descriptorGpa + 8);
            } catch (MemoryAccessException e) {
                registers.queueHeadIndex(head);
                fail("guest's invalidation queue is outside memory at 0x" + Long.toHexString(descriptorGpa));
                return;
            }
            final String problem = perform(lo, hi);
            if (problem != null) {
                registers.queueHeadIndex(head);
                fail(problem);
                return;
            }
            head = (head + 1) % entries;
        }
        registers.queueHeadIndex(head);
    }

    private void fail(final String problem) {
        unit.queueError(problem);
    }

    /** @return null when performed, else what the guest got wrong */
    private String perform(final long lo, final long hi) {
        final int type = (int) lo & 0xF;
        return switch (type) {
            case 1 -> contextCache(lo, hi);
            case 2 -> iotlb(lo, hi);
            case 3 -> deviceIotlb(lo, hi);
            case 4 -> interruptEntryCache(lo, hi);
            case 5 -> await(lo, hi);
            default -> "guest queued an invalidation descriptor of unknown type " + type;
        };
    }

    private String contextCache(final long lo, final long hi) {
        if ((lo & CONTEXT_RESERVED) != 0 || hi != 0) {
            return "guest set reserved bits in a context-cache invalidation descriptor";
        }
        final boolean done = unit.invalidateContextCache((int) (lo >>> 4) & 3, (int) (lo >>> 16) & 0xFFFF,
                (int) (lo >>> 32) & 0xFFFF, (int) (lo >>> 48) & 3);
        return done ? null : "guest queued a context-cache invalidation of reserved granularity";
    }

    private String iotlb(final long lo, final long hi) {
        if ((lo & IOTLB_RESERVED_LO) != 0 || (hi & IOTLB_RESERVED_HI) != 0) {
            return "guest set reserved bits in an IOTLB invalidation descriptor";
        }
        final boolean done = unit.invalidateIotlb((int) (lo >>> 4) & 3, (int) (lo >>> 16) & 0xFFFF, hi & ~0xFFFL,
                (int) hi & 0x3F);
        return done ? null : "guest queued an IOTLB invalidation of reserved granularity or address mask";
    }

    private String deviceIotlb(final long lo, final long hi) {
        if ((lo & DEVICE_IOTLB_RESERVED_LO) != 0 || (hi & DEVICE_IOTLB_RESERVED_HI) != 0) {
            return "guest set reserved bits in a device-IOTLB invalidation descriptor";
        }
        unit.invalidateDeviceIotlb((int) (lo >>> 32) & 0xFFFF);
        return null;
    }

    private String interruptEntryCache(final long lo, final long hi) {
        if ((lo & INTERRUPT_ENTRY_RESERVED) != 0 || hi != 0) {
            return "guest set reserved bits in an interrupt-entry-cache invalidation descriptor";
        }
        unit.invalidateInterruptEntries((lo & 0x10) == 0, (int) (lo >>> 32) & 0xFFFF, (int) (lo >>> 27) & 0x1F);
        return null;
    }

    private String await(final long lo, final long hi) {
        if ((lo & WAIT_RESERVED_LO) != 0 || (hi & WAIT_RESERVED_HI) != 0) {
            return "guest set reserved bits in an invalidation wait descriptor";
        }
        if ((lo & 0x20) != 0) {
            final long statusGpa = hi & ~3L;
            try {
                memory.putInt(statusGpa, (int) (lo >>> 32));
            } catch (MemoryAccessException e) {
                return "guest gave a wait descriptor status address outside memory: 0x" + Long.toHexString(statusGpa);
            }
        }
        unit.waitCompleted((lo & 0x10) != 0);
        return null;
    }
}

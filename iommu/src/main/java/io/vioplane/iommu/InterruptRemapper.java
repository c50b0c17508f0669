package io.vioplane.iommu;

import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * Interrupt remapping (VT-d 3.x chapter 5): decodes the remappable MSI format, finds the IRTE, checks the
 * requester's source ID, and says where the interrupt goes. IRTEs are cached (the interrupt entry cache, section
 * 6.2.4) until an interrupt-entry-cache invalidation removes them. Not thread-safe: the unit's lock guards it.
 *
 * <pre>
 *   remappable MSI address                  data (with SHV)
 *   31..20  0xFEE                           15..0   subhandle, added to the handle
 *   19..5   handle[14:0]                    31..16  reserved
 *   4       1 = remappable format
 *   3       SHV: subhandle valid
 *   2       handle[15]
 * </pre>
 */
final class InterruptRemapper {
    /** How many IRTEs the entry cache keeps before it starts over. */
    static final int CACHE_CAPACITY = 4096;

    private final DmaSpace memory;
    private final long addressMask;
    private final Int2ObjectHashMap<Irte> cache = new Int2ObjectHashMap<>();
    private long tableGpa;
    private int tableEntries;
    private boolean extendedDestinations;
    private boolean enabled;
    private boolean compatibilityAllowed;

    InterruptRemapper(final DmaSpace memory, final VtdConfig config) {
        this.memory = memory;
        this.addressMask = config.hostAddressMask() & ~0xFFFL;
    }

    /** Latches IRTA (SIRTP): the table at bits 63..12, EIME at bit 11, 2^(S + 1) entries with S at bits 3..0. */
    void latchTable(final long irta) {
        tableGpa = irta & addressMask;
        extendedDestinations = (irta & 1 << 11) != 0;
        tableEntries = 1 << ((int) irta & 0xF) + 1;
    }

    void enable(final boolean on) {
        enabled = on;
    }

    void allowCompatibility(final boolean allowed) {
        compatibilityAllowed = allowed;
    }

    /**
     * @return where the request goes
     * @throws DmaFault with the spec's reason; {@link DmaFault#address()} is the interrupt index
     */
    InterruptRoute route(final int requester, final MsiMessage request) {
        if (!enabled) {
            return new InterruptRoute.Unmapped(request);
        }
        final long address = request.address();
        if ((address & 0x10) == 0) {
            if (compatibilityAllowed) {
                return new InterruptRoute.Unmapped(request);
            }
            throw new DmaFault(FaultReason.IR_COMPATIBILITY_BLOCKED, requester, 0);
        }
        int index = (int) (address >>> 5) & 0x7FFF | (int) (address >>> 2 & 1) << 15;
        if ((address & 0x8) != 0) {
            if ((request.data() & 0xFFFF_0000) != 0) {
                throw new DmaFault(FaultReason.IR_REQUEST_RESERVED, requester, index);
            }
            index = index + (request.data() & 0xFFFF) & 0xFFFF;
        }
        if (index >= tableEntries) {
            throw new DmaFault(FaultReason.IR_INDEX_OVER_MAX, requester, index);
        }
        final Irte entry = entry(index, requester);
        if (!entry.admits(requester)) {
            throw new DmaFault(FaultReason.IR_SOURCE_ID_INVALID, requester, index);
        }
        if (entry.posted()) {
            return new InterruptRoute.Posted(entry.vector(), entry.descriptorGpa(), entry.urgent());
        }
        return new InterruptRoute.Remapped(entry.vector(), entry.destination(), entry.deliveryMode(),
                entry.logicalDestination(), entry.levelTriggered(), entry.redirectionHint());
    }

    /** @return the cached or freshly read IRTE at {@code index}, for fault suppression too */
    Irte entry(final int index, final int requester) {
        final Irte cached = cache.get(index);
        if (cached != null) {
            return cached;
        }
        final long entryGpa = tableGpa + 16L * index;
        final long lo;
        final long hi;
        try {
            lo = memory.getLong(entryGpa);
            hi = memory.getLong(entryGpa + 8);
        } catch (MemoryAccessException e) {
            throw new DmaFault(FaultReason.IR_TABLE_ACCESS_ERROR, requester, index);
        }
        final Irte entry = Irte.decode(lo, hi, index, extendedDestinations, requester);
        if (cache.size() >= CACHE_CAPACITY) {
            cache.clear();
        }
        cache.put(index, entry);
        return entry;
    }

    /** @return the cached IRTE at {@code index} or null: whether faults on it are suppressed is known only then */
    Irte cached(final int index) {
        return cache.get(index);
    }

    /**
     * Interrupt-entry-cache invalidation: everything, or the 2^indexMask entries from {@code index} aligned down.
     */
    void invalidate(final boolean global, final int index, final int indexMask) {
        if (global) {
            cache.clear();
            return;
        }
        final int first = index & -(1 << indexMask);
        for (int i = first; i < first + (1 << indexMask); i++) {
            cache.remove(i);
        }
    }
}

package io.vioplane.iommu;

import io.vioplane.platform.runtime.CounterKind;

/**
 * What a device IOTLB ({@link DeviceIotlb}, {@link DeviceIotlbDmaSpace}) counts: the translations its IOMMU sent and
 * took back, the misses it asked about, and every message or access it refused, named after who was at fault.
 */
public enum DeviceIotlbCounter implements CounterKind {
    /** Translations added (an UPDATE). */
    UPDATES("iotlb: updates"),
    /** An UPDATE repeating an entry exactly (two misses for one page): accepted, nothing changed. */
    DUPLICATE_UPDATES("iotlb: updates repeating an entry"),
    /** Invalidations applied (each may remove several entries, or none). */
    INVALIDATIONS("iotlb: invalidations"),
    /** Entries removed by invalidations. */
    ENTRIES_INVALIDATED("iotlb: entries invalidated"),
    /** Entries dropped to keep the table bounded (a miss brings them back). */
    EVICTIONS("iotlb: entries evicted (table full)"),
    /** Miss requests sent to the IOMMU (the ring waits for the answer). */
    MISSES_SENT("iotlb: miss requests sent"),
    /** Miss requests that could not be sent now (the channel was busy or absent); the ring asks again later. */
    MISSES_DEFERRED("iotlb: miss requests deferred (channel busy or absent)"),
    /** Accesses refused because the mapping lacks the permission (a device write into a read-only mapping). */
    PERMISSION_DENIED("iotlb: accesses denied by the mapping's permissions (guest fault)"),
    /** Translations that led outside guest memory. */
    OUTSIDE_GUEST_MEMORY("iotlb: translations outside guest memory (front-end fault)"),
    /** UPDATE or INVALIDATE with a zero size. */
    REFUSED_ZERO_SIZE("iotlb: refused, front-end sent a zero-size range"),
    /** UPDATE or INVALIDATE whose range wraps the 64-bit address space. */
    REFUSED_WRAPS("iotlb: refused, front-end sent a range that wraps"),
    /** UPDATE with permission 0 (no access) or an unknown permission. */
    REFUSED_PERMISSIONS("iotlb: refused, front-end sent an update without permissions"),
    /** UPDATE overlapping an entry that translates differently. */
    REFUSED_OVERLAP("iotlb: refused, front-end sent an update overlapping another entry"),
    /** UPDATE whose target (vhost-user: user address) is not wholly inside guest memory. */
    REFUSED_OUTSIDE_MEMORY("iotlb: refused, front-end mapped outside guest memory"),
    /** IOTLB messages of a type the device does not take (MISS, ACCESS_FAIL sent to the device). */
    REFUSED_TYPE("iotlb: refused, front-end sent a message type meant for the front-end"),
    /** Dirty-log marks of an iova with no translation any more (not logged: the page it named is unknown). */
    LOG_UNTRANSLATED("iotlb: dirty-log writes without a translation (not logged)"),
    /** Running rings paused because an invalidation took the translation of their own areas (misses sent). */
    RINGS_PAUSED("iotlb: rings paused by an invalidation of their areas");

    private final String label;

    DeviceIotlbCounter(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}

package io.vioplane.iommu;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * The context cache: validated context entries by source ID (VT-d 3.x section 6.2.1), kept until a
 * context-cache invalidation removes them (section 6.5.1.1, 6.5.2.1). Only present, valid entries are cached
 * (CAP.CM = 0). Bounded like {@link Iotlb}. Not thread-safe: the unit's lock guards it.
 */
public final class ContextCache {
    /** How many context entries are kept before the cache starts over. */
    public static final int CAPACITY = 4096;

    private final Int2ObjectHashMap<ContextEntry> entries = new Int2ObjectHashMap<>();

    /** @return the cached context entry of {@code sourceId}, or null */
    public ContextEntry lookup(final int sourceId) {
        return entries.get(sourceId);
    }

    /** Caches {@code entry}. */
    public void insert(final ContextEntry entry) {
        if (entries.size() >= CAPACITY) {
            entries.clear();
        }
        entries.put(entry.sourceId(), entry);
    }

    /** Global invalidation. */
    public void invalidateAll() {
        entries.clear();
    }

    /** Domain-selective invalidation: forgets the entries of {@code domainId}. */
    public void invalidateDomain(final int domainId) {
        entries.values().removeIf(entry -> entry.domainId() == domainId);
    }

    /**
     * Device-selective invalidation of the entries whose source ID matches {@code sourceId} once the function
     * bits that {@code functionMask} names are ignored (FM: 0 none, 1 bit 2, 2 bits 2..1, 3 bits 2..0), whatever
     * their domain (removing more than asked is always safe).
     */
    public void invalidateDevice(final int sourceId, final int functionMask) {
        final int ignored = (1 << functionMask) - 1 << (3 - functionMask);
        entries.values().removeIf(entry -> (entry.sourceId() & ~ignored) == (sourceId & ~ignored));
    }
}

package io.vioplane.iommu;

import org.agrona.collections.Long2ObjectHashMap;

/**
 * The IOTLB: leaf translations tagged by domain (VT-d 3.x section 6.2.2), kept until an invalidation removes
 * them (section 6.5). Entries of 4 KiB, 2 MiB and 1 GiB pages live in one map keyed by domain, page size and page
 * number. Bounded: when full it forgets everything, which the spec allows (a cache may drop entries at any
 * time), so a guest mapping millions of pages costs walks, not memory. Not thread-safe: the unit's lock guards it.
 */
public final class Iotlb {
    /** How many translations are kept before the cache starts over. */
    public static final int CAPACITY = 4096;
    private static final int[] PAGE_SHIFTS = {12, 21, 30};

    private final Long2ObjectHashMap<IotlbEntry> entries = new Long2ObjectHashMap<>();

    private static long key(final int domainId, final int pageShift, final long iova) {
        return (long) domainId << 48 | (long) pageShift << 40 | (iova >>> pageShift);
    }

    /** @return the cached translation of {@code iova} in {@code domainId}, or null */
    public IotlbEntry lookup(final int domainId, final long iova) {
        for (int pageShift : PAGE_SHIFTS) {
            final IotlbEntry entry = entries.get(key(domainId, pageShift, iova));
            if (entry != null) {
                return entry;
            }
        }
        return null;
    }

    /** Caches {@code entry}. */
    public void insert(final IotlbEntry entry) {
        if (entries.size() >= CAPACITY) {
            entries.clear();
        }
        entries.put(key(entry.domainId(), entry.pageShift(), entry.iovaBase()), entry);
    }

    /** Global invalidation: forgets every translation. */
    public void invalidateAll() {
        entries.clear();
    }

    /** Domain-selective invalidation: forgets the translations of {@code domainId}. */
    public void invalidateDomain(final int domainId) {
        entries.values().removeIf(entry -> entry.domainId() == domainId);
    }

    /**
     * Page-selective invalidation: forgets the domain's translations overlapping the naturally aligned range of
     * 2^addressMask pages that contains {@code iova}.
     */
    public void invalidatePages(final int domainId, final long iova, final int addressMask) {
        final int sizeShift = 12 + addressMask;
        final long firstIova = iova & -(1L << sizeShift);
        entries.values().removeIf(entry -> entry.domainId() == domainId && entry.overlaps(firstIova, sizeShift));
    }

    /** @return how many translations are cached */
    public int size() {
        return entries.size();
    }
}

package io.vioplane.iommu;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;

/**
 * Walks the legacy-mode root table, context table and second-level paging structures in guest memory (VT-d 3.x
 * sections 3.4.2, 3.6, 9.1, 9.3 and 9.8). Every entry is read once into a local, checked, then used; a walk reads
 * at most one root entry, one context entry and one paging entry per level, so it cannot loop, and a table
 * outside guest memory is a fault, never an access.
 *
 * <pre>
 *   root entry (16 B per bus)       second-level entry (8 B, 512 per table)
 *   lo 0      P                      0      R              7      PS (2 MiB at level 2, 1 GiB at level 3)
 *   lo 11..1  reserved               1      W              11     reserved (SNP unsupported)
 *   lo 63..12 context table          51..12 address        61..52, 63 ignored; 62 reserved (no DT)
 *   hi        reserved
 * </pre>
 */
public final class TranslationWalker {
    private static final long IGNORED_BITS = 0xBFF0_0000_0000_0000L;
    private static final long PAGE_SIZE_BIT = 1L << 7;
    private static final int PAGE_SHIFT = 12;
    private static final int BITS_PER_LEVEL = 9;

    private final DmaSpace memory;
    private final VtdConfig config;
    private final long addressMask;
    private final long hostBitsReserved;
    private final long rootEntryReserved;
    private final long contextLoReserved;
    private final long contextHiReserved;

    /**
     * @param memory guest memory, where the tables live
     * @param config what the unit supports
     */
    public TranslationWalker(final DmaSpace memory, final VtdConfig config) {
        this.memory = memory;
        this.config = config;
        this.addressMask = config.hostAddressMask() & ~0xFFFL;
        this.hostBitsReserved = ~(config.hostAddressMask() | IGNORED_BITS);
        this.rootEntryReserved = 0xFFEL | ~config.hostAddressMask();
        this.contextLoReserved = 0xFF0L | ~config.hostAddressMask();
        this.contextHiReserved = 0xFFFF_FFFF_FF00_0080L;
    }

    /**
     * Reads and validates the context entry of {@code sourceId}. Translation types (section 9.3): 00b translates
     * through second-level tables; 01b (device-TLB allowed, only if {@link VtdConfig#deviceTlb}) translates
     * untranslated requests the same way; 10b is pass-through; anything else is an invalid entry.
     *
     * @param rootTableGpa the active root table (RTADDR latched by SRTP)
     * @throws DmaFault with the spec's reason if the root or context entry is absent, unreadable or invalid
     */
    public ContextEntry readContext(final long rootTableGpa, final int sourceId) {
        final long rootEntryGpa = rootTableGpa + 16L * SourceId.bus(sourceId);
        final long rootLo;
        final long rootHi;
        try {
            rootLo = memory.getLong(rootEntryGpa);
            rootHi = memory.getLong(rootEntryGpa + 8);
        } catch (MemoryAccessException e) {
            throw new DmaFault(FaultReason.ROOT_TABLE_ACCESS_ERROR, sourceId, 0);
        }
        if ((rootLo & 1) == 0) {
            throw new DmaFault(FaultReason.ROOT_ENTRY_NOT_PRESENT, sourceId, 0);
        }
        if ((rootLo & rootEntryReserved) != 0 || rootHi != 0) {
            throw new DmaFault(FaultReason.ROOT_ENTRY_RESERVED, sourceId, 0);
        }
        final long contextEntryGpa = (rootLo & addressMask) + 16L * SourceId.devfn(sourceId);
        final long lo;
        final long hi;
        try {
            lo = memory.getLong(contextEntryGpa);
            hi = memory.getLong(contextEntryGpa + 8);
        } catch (MemoryAccessException e) {
            throw new DmaFault(FaultReason.CONTEXT_TABLE_ACCESS_ERROR, sourceId, 0);
        }
        if ((lo & 1) == 0) {
            throw new DmaFault(FaultReason.CONTEXT_ENTRY_NOT_PRESENT, sourceId, 0);
        }
        if ((lo & contextLoReserved) != 0 || (hi & contextHiReserved) != 0) {
            throw new DmaFault(FaultReason.CONTEXT_ENTRY_RESERVED, sourceId, 0);
        }
        final int translationType = (int) (lo >>> 2) & 3;
        final int aw = (int) hi & 7;
        final boolean passThrough = translationType == 2;
        final boolean translated = translationType == 0 || translationType == 1 && config.deviceTlb();
        if (!passThrough && (!translated || !config.supportsAddressWidth(aw))) {
            throw new DmaFault(FaultReason.CONTEXT_ENTRY_INVALID, sourceId, 0);
        }
        final int levels = passThrough ? 0 : aw + 2;
        return new ContextEntry(sourceId, (lo & 2) != 0, passThrough, lo & addressMask, levels,
                (int) (hi >>> 8) & 0xFFFF);
    }

    /**
     * Translates the page containing {@code iova} for the device of {@code context}. The returned entry carries
     * the accumulated permissions; checking them against the request is the caller's job (so a cached entry is
     * checked the same way).
     *
     * @param mode what the request does, which decides whether a not-present entry is a read or write fault
     * @throws DmaFault with the spec's reason if the address is too wide or an entry is absent, unreadable or has
     *     reserved bits set
     */
    public IotlbEntry walk(final ContextEntry context, final long iova, final AccessMode mode) {
        final int sourceId = context.sourceId();
        if (context.passThrough()) {
            if ((iova & ~config.hostAddressMask()) != 0) {
                throw new DmaFault(FaultReason.ADDRESS_BEYOND_MGAW, sourceId, iova);
            }
            final long page = iova & ~0xFFFL;
            return new IotlbEntry(context.domainId(), page, PAGE_SHIFT, page, IotlbEntry.READ | IotlbEntry.WRITE);
        }
        final int widthBits = Math.min(config.mgawBits(), context.addressWidthBits());
        if ((iova >>> widthBits) != 0) {
            throw new DmaFault(FaultReason.ADDRESS_BEYOND_MGAW, sourceId, iova);
        }
        long tableGpa = context.secondLevelRootGpa();
        int permissions = IotlbEntry.READ | IotlbEntry.WRITE;
        for (int level = context.levels(); level >= 1; level--) {
            final int shift = PAGE_SHIFT + BITS_PER_LEVEL * (level - 1);
            final long entryGpa = tableGpa + 8 * ((iova >>> shift) & 0x1FF);
            final long entry;
            try {
                entry = memory.getLong(entryGpa);
            } catch (MemoryAccessException e) {
                throw new DmaFault(FaultReason.PAGING_ENTRY_ACCESS_ERROR, sourceId, iova);
            }
            final int entryPermissions = (int) entry & 3;
            if (entryPermissions == 0) {
                throw new DmaFault(mode.writes() ? FaultReason.WRITE_DENIED : FaultReason.READ_DENIED, sourceId, iova);
            }
            final boolean largePage = (level == 2 || level == 3) && (entry & PAGE_SIZE_BIT) != 0;
            if ((entry & reservedBits(level, largePage)) != 0) {
                throw new DmaFault(FaultReason.PAGING_ENTRY_RESERVED, sourceId, iova);
            }
            permissions &= entryPermissions;
            if (level == 1 || largePage) {
                final long pageMask = (1L << shift) - 1;
                return new IotlbEntry(context.domainId(), iova & ~pageMask, shift, entry & addressMask & ~pageMask,
                        permissions);
            }
            tableGpa = entry & addressMask;
        }
        throw new IllegalStateException("context entry with " + context.levels() + " levels");
    }

    private long reservedBits(final int level, final boolean largePage) {
        if (largePage) {
            return hostBitsReserved | (level == 2 ? 0x1F_F800L : 0x3FFF_F800L);
        }
        return hostBitsReserved | 0x800L | (level == 4 ? PAGE_SIZE_BIT : 0);
    }
}

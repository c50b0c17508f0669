package io.vioplane.iommu;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The address space of one device behind a VT-d unit: a decorator over guest memory that translates iovas by the
 * device's source ID (VT-d 3.x section 3.6), so a device never knows whether an IOMMU is there. While translation
 * is off (GSTS.TES = 0) addresses pass through untranslated.
 *
 * <p>Hot path: a direct-mapped cache of {@value #CACHE_SLOTS} 4 KiB translations, flushed whenever the unit's
 * generation moves (an invalidation or a TE change), so a hit costs two volatile reads and one array probe, and a
 * stale translation never outlives the invalidation that removes it. A miss asks the unit (IOTLB, then a walk).
 *
 * <p>A range crossing a page boundary is translated page by page: {@link #translate} and {@link #resolve} return
 * one segment only if the pages are contiguous in guest memory; {@link #read} and {@link #write} copy page by page
 * whatever the layout. Every resulting gpa is bounds-checked by guest memory: a guest that maps an iova outside its
 * memory gets a refusal and a counter, never an access.
 *
 * <p>One instance per device, used by that device's thread (the cache is not shared).
 */
public final class IommuDmaSpace implements DmaSpace {
    /** Number of per-device cache slots. */
    public static final int CACHE_SLOTS = 64;
    private static final long PAGE_MASK = 0xFFFL;
    private static final long FAULTED = -1;
    private static final long SCATTERED = -2;

    private final VtdUnit unit;
    private final DmaSpace memory;
    private final int sourceId;
    private final long[] slotIovaPage = new long[CACHE_SLOTS];
    private final long[] slotGpaPage = new long[CACHE_SLOTS];
    private final int[] slotPermissions = new int[CACHE_SLOTS];
    private long cachedGeneration = -1;
    private DmaFault lastFault;

    IommuDmaSpace(final VtdUnit unit, final DmaSpace memory, final int sourceId) {
        this.unit = unit;
        this.memory = memory;
        this.sourceId = sourceId;
        Arrays.fill(slotIovaPage, -1);
    }

    /** @return the source ID this space translates for */
    public int sourceId() {
        return sourceId;
    }

    @Override
    public MemorySegment translate(final long iova, final long lengthBytes, final AccessMode mode) {
        checkRange(iova, lengthBytes);
        if (!unit.translationEnabled()) {
            return memory.translate(iova, lengthBytes, mode);
        }
        final long gpa = contiguousGpa(iova, lengthBytes, mode);
        if (gpa == FAULTED || gpa == SCATTERED) {
            throw refusal(gpa, iova, lengthBytes);
        }
        return inGuestMemory(gpa, lengthBytes, mode);
    }

    @Override
    public boolean resolve(final long iova, final long lengthBytes, final AccessMode mode, final DmaRange out) {
        if (wraps(iova, lengthBytes)) {
            return false;
        }
        if (!unit.translationEnabled()) {
            return memory.resolve(iova, lengthBytes, mode, out);
        }
        final long gpa = contiguousGpa(iova, lengthBytes, mode);
        if (gpa == FAULTED || gpa == SCATTERED) {
            return false;
        }
        if (!memory.resolve(gpa, lengthBytes, mode, out)) {
            unit.countOutsideGuestMemory();
            return false;
        }
        return true;
    }

    @Override
    public void read(final long iova, final MemorySegment destination) {
        final long lengthBytes = destination.byteSize();
        checkRange(iova, lengthBytes);
        if (!unit.translationEnabled()) {
            memory.read(iova, destination);
            return;
        }
        for (long done = 0; done < lengthBytes; ) {
            final long chunk = Math.min(lengthBytes - done, PAGE_MASK + 1 - (iova + done & PAGE_MASK));
            MemorySegment.copy(translate(iova + done, chunk, AccessMode.READ), 0, destination, done, chunk);
            done += chunk;
        }
    }

    @Override
    public void write(final long iova, final MemorySegment source) {
        final long lengthBytes = source.byteSize();
        checkRange(iova, lengthBytes);
        if (!unit.translationEnabled()) {
            memory.write(iova, source);
            return;
        }
        for (long done = 0; done < lengthBytes; ) {
            final long chunk = Math.min(lengthBytes - done, PAGE_MASK + 1 - (iova + done & PAGE_MASK));
            MemorySegment.copy(source, done, translate(iova + done, chunk, AccessMode.WRITE), 0, chunk);
            done += chunk;
        }
    }

    private static boolean wraps(final long iova, final long lengthBytes) {
        return lengthBytes < 0 || lengthBytes > 0 && Long.compareUnsigned(iova + lengthBytes - 1, iova) < 0;
    }

    private static void checkRange(final long iova, final long lengthBytes) {
        if (wraps(iova, lengthBytes)) {
            throw new MemoryAccessException(MemoryAccessException.Reason.OVERFLOW, iova, lengthBytes, "");
        }
    }

    /**
     * @return the gpa of {@code iova} if every page of the range translates with {@code mode} and the pages are
     *     contiguous in guest memory; {@link #FAULTED} after a fault ({@link #lastFault} says which), or
     *     {@link #SCATTERED} if the pages are not contiguous
     */
    private long contiguousGpa(final long iova, final long lengthBytes, final AccessMode mode) {
        final long gpa = pageGpa(iova, mode);
        if (gpa == FAULTED || lengthBytes <= 1) {
            return gpa;
        }
        final long lastIova = iova + lengthBytes - 1;
        for (long page = (iova | PAGE_MASK) + 1; Long.compareUnsigned(page, lastIova) <= 0; page += PAGE_MASK + 1) {
            final long pageGpa = pageGpa(page, mode);
            if (pageGpa == FAULTED) {
                return FAULTED;
            }
            if (pageGpa != gpa + (page - iova)) {
                return SCATTERED;
            }
            if (page + PAGE_MASK + 1 == 0) {
                break;
            }
        }
        return gpa;
    }

    private long pageGpa(final long iova, final AccessMode mode) {
        final long generation = unit.generation();
        if (generation != cachedGeneration) {
            Arrays.fill(slotIovaPage, -1);
            cachedGeneration = generation;
        }
        final long iovaPage = iova >>> 12;
        final int slot = (int) iovaPage & (CACHE_SLOTS - 1);
        final int needed = (mode.reads() ? IotlbEntry.READ : 0) | (mode.writes() ? IotlbEntry.WRITE : 0);
        if (slotIovaPage[slot] == iovaPage && (slotPermissions[slot] & needed) == needed) {
            return slotGpaPage[slot] | iova & PAGE_MASK;
        }
        final IotlbEntry entry;
        try {
            entry = unit.translate(sourceId, iova, mode);
        } catch (DmaFault fault) {
            lastFault = fault;
            return FAULTED;
        }
        final long gpaPage = entry.gpaOf(iova & ~PAGE_MASK);
        slotIovaPage[slot] = iovaPage;
        slotGpaPage[slot] = gpaPage;
        slotPermissions[slot] = entry.permissions();
        return gpaPage | iova & PAGE_MASK;
    }

    private MemorySegment inGuestMemory(final long gpa, final long lengthBytes, final AccessMode mode) {
        try {
            return memory.translate(gpa, lengthBytes, mode);
        } catch (MemoryAccessException e) {
            unit.countOutsideGuestMemory();
            throw e;
        }
    }

    private MemoryAccessException refusal(final long outcome, final long iova, final long lengthBytes) {
        final DmaFault fault = lastFault;
        if (outcome == SCATTERED) {
            return new MemoryAccessException(MemoryAccessException.Reason.CROSSES_REGIONS, iova, lengthBytes,
                    "(iova pages map to scattered guest pages; copy with read/write)");
        }
        return new MemoryAccessException(MemoryAccessException.Reason.DENIED, iova, lengthBytes,
                "(VT-d fault for " + SourceId.format(sourceId) + ": " + fault.getMessage() + ")");
    }
}

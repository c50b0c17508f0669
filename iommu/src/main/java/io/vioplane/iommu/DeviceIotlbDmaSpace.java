package io.vioplane.iommu;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;
import io.vioplane.platform.runtime.DataPlane;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The DMA space of a device with a device IOTLB (vhost-user with VIRTIO_F_ACCESS_PLATFORM, QEMU
 * docs/interop/vhost-user.rst "IOMMU support"; PCIe ATS): iovas translated by a {@link DeviceIotlb}, then checked by
 * guest memory. The same design as {@link IommuDmaSpace}: devices never know it is there.
 *
 * <p>Hot path: a direct-mapped cache of {@value #CACHE_SLOTS} entries indexed by iova page, flushed when the table
 * loses an entry ({@link DeviceIotlb#removals()}), so a hit costs one probe and a stale translation never outlives
 * the invalidation that removed it. A range crossing from one entry into the next is joined when the two are
 * contiguous in guest memory with the permission needed; otherwise {@link #resolvePiece} returns it piece by piece
 * (and {@link #resolve}, which wants one piece, refuses with {@code CROSSES_REGIONS}).
 *
 * <p>A miss asks the IOMMU for the translation through the {@link MissRequester} (once per page until some update
 * arrives) and refuses with {@code TRANSLATION_PENDING}: the queue keeps the request and takes it again later. A
 * mapping without the permission the access needs refuses with {@code DENIED} (counted): that request fails. Every
 * gpa a translation yields is bounds-checked by guest memory: an entry outside it is a counted refusal, never an
 * access.
 *
 * <p>One thread (the device's data-plane thread). As a {@link DataPlane.Pollable} it keeps the data plane from
 * parking while a miss request could not be sent (the channel was full), so that it is sent again.
 */
public final class DeviceIotlbDmaSpace implements DmaSpace, DataPlane.Pollable {
    /** Number of cache slots. */
    public static final int CACHE_SLOTS = 64;
    /** Misses remembered as asked (not asked again until an update arrives). */
    public static final int OUTSTANDING_MISSES = 64;
    private static final int PAGE_SHIFT = 12;

    /** Sends a miss request to the IOMMU (vhost-user: BACKEND_IOTLB_MSG of type MISS). Data-plane thread. */
    @FunctionalInterface
    public interface MissRequester {
        /**
         * Asks for the translation of {@code iova} with {@code permissions} ({@link IotlbEntry#READ} |
         * {@link IotlbEntry#WRITE}), without blocking.
         *
         * @return true if the request went out; false if it could not be sent now (it is asked again later)
         */
        boolean requestTranslation(long iova, int permissions);
    }

    private final DeviceIotlb table;
    private final MissRequester misses;
    private DmaSpace memory;
    private final long[] slotFirst = new long[CACHE_SLOTS];
    private final long[] slotLast = new long[CACHE_SLOTS];
    private final long[] slotDelta = new long[CACHE_SLOTS];
    private final int[] slotPermissions = new int[CACHE_SLOTS];
    private long cachedRemovals = -1;
    private final long[] askedPages = new long[OUTSTANDING_MISSES];
    private int askedCount;
    private long additionsWhenAsked;
    private boolean missDeferred;
    private MemoryAccessException.Reason refusal = MemoryAccessException.Reason.OUT_OF_RANGE;
    private final DmaRange scratch = new DmaRange();
    private int lookedUpSlot;

    /**
     * @param table  the translations
     * @param memory guest memory (gpa space) the translations lead into
     * @param misses where misses are asked
     */
    public DeviceIotlbDmaSpace(final DeviceIotlb table, final DmaSpace memory, final MissRequester misses) {
        this.table = table;
        this.memory = memory;
        this.misses = misses;
    }

    /** Points the space at new guest memory (a memory-table change); data-plane thread. */
    public void memory(final DmaSpace newMemory) {
        this.memory = newMemory;
    }

    /** @return the table */
    public DeviceIotlb table() {
        return table;
    }

    @Override
    public MemoryAccessException.Reason refusal() {
        return refusal;
    }

    private static int needed(final AccessMode mode) {
        return (mode.reads() ? IotlbEntry.READ : 0) | (mode.writes() ? IotlbEntry.WRITE : 0);
    }

    private static boolean wraps(final long iova, final long lengthBytes) {
        return lengthBytes < 0 || lengthBytes > 0 && Long.compareUnsigned(iova + lengthBytes - 1, iova) < 0;
    }

    /**
     * Finds the entry holding {@code iova} into the cache.
     *
     * @return false if the table has none ({@link #lookedUpSlot} is then meaningless)
     */
    private boolean lookUp(final long iova) {
        final long removals = table.removals();
        if (removals != cachedRemovals) {
            Arrays.fill(slotPermissions, 0);
            cachedRemovals = removals;
        }
        final int slot = (int) (iova >>> PAGE_SHIFT) & (CACHE_SLOTS - 1);
        lookedUpSlot = slot;
        if (slotPermissions[slot] != 0 && Long.compareUnsigned(slotFirst[slot], iova) <= 0
                && Long.compareUnsigned(iova, slotLast[slot]) <= 0) {
            return true;
        }
        final int index = table.indexOf(iova);
        if (index < 0) {
            return false;
        }
        slotFirst[slot] = table.firstIova(index);
        slotLast[slot] = table.lastIova(index);
        slotDelta[slot] = table.firstGpa(index) - table.firstIova(index);
        slotPermissions[slot] = table.permissions(index);
        return true;
    }

    /** @return bytes of {@code [iova, iova + lengthBytes)} inside the entry in {@code slot} */
    private long within(final int slot, final long iova, final long lengthBytes) {
        final long room = slotLast[slot] - iova + 1;
        return room == 0 || Long.compareUnsigned(room, lengthBytes) >= 0 ? lengthBytes : room;
    }

    @Override
    public long resolvePiece(final long iova, final long lengthBytes, final AccessMode mode, final DmaRange out) {
        if (wraps(iova, lengthBytes) || lengthBytes == 0) {
            refusal = MemoryAccessException.Reason.OVERFLOW;
            return 0;
        }
        final int needed = needed(mode);
        if (!lookUp(iova)) {
            askFor(iova, needed);
            refusal = MemoryAccessException.Reason.TRANSLATION_PENDING;
            return 0;
        }
        final int slot = lookedUpSlot;
        if ((slotPermissions[slot] & needed) != needed) {
            table.counters().increment(DeviceIotlbCounter.PERMISSION_DENIED);
            refusal = MemoryAccessException.Reason.DENIED;
            return 0;
        }
        final long delta = slotDelta[slot];
        final long first = within(slot, iova, lengthBytes);
        long piece = first;
        while (piece < lengthBytes && lookUp(iova + piece) && slotDelta[lookedUpSlot] == delta
                && (slotPermissions[lookedUpSlot] & needed) == needed) {
            piece += within(lookedUpSlot, iova + piece, lengthBytes - piece);
        }
        final long gpa = iova + delta;
        if (memory.resolve(gpa, piece, mode, out)) {
            return piece;
        }
        if (piece != first && memory.resolve(gpa, first, mode, out)) {
            return first;
        }
        table.counters().increment(DeviceIotlbCounter.OUTSIDE_GUEST_MEMORY);
        refusal = MemoryAccessException.Reason.OUT_OF_RANGE;
        return 0;
    }

    @Override
    public boolean resolve(final long iova, final long lengthBytes, final AccessMode mode, final DmaRange out) {
        if (lengthBytes == 0) {
            return resolveEmpty(iova, mode, out);
        }
        final long piece = resolvePiece(iova, lengthBytes, mode, out);
        if (piece == lengthBytes) {
            return true;
        }
        if (piece > 0) {
            refusal = MemoryAccessException.Reason.CROSSES_REGIONS;
        }
        return false;
    }

    private boolean resolveEmpty(final long iova, final AccessMode mode, final DmaRange out) {
        if (resolvePiece(iova, 1, mode, out) == 0) {
            return false;
        }
        return true;
    }

    @Override
    public MemorySegment translate(final long iova, final long lengthBytes, final AccessMode mode) {
        if (wraps(iova, lengthBytes)) {
            throw new MemoryAccessException(MemoryAccessException.Reason.OVERFLOW, iova, lengthBytes, "");
        }
        if (!resolve(iova, lengthBytes, mode, scratch)) {
            throw new MemoryAccessException(refusal, iova, lengthBytes, "(device IOTLB)");
        }
        return scratch.segment().asSlice(scratch.offset(), lengthBytes);
    }

    @Override
    public void read(final long iova, final MemorySegment destination) {
        final long lengthBytes = destination.byteSize();
        for (long done = 0; done < lengthBytes; ) {
            final long piece = resolvePiece(iova + done, lengthBytes - done, AccessMode.READ, scratch);
            if (piece == 0) {
                throw new MemoryAccessException(refusal, iova + done, lengthBytes - done, "(device IOTLB)");
            }
            MemorySegment.copy(scratch.segment(), scratch.offset(), destination, done, piece);
            done += piece;
        }
    }

    @Override
    public void write(final long iova, final MemorySegment source) {
        final long lengthBytes = source.byteSize();
        for (long done = 0; done < lengthBytes; ) {
            final long piece = resolvePiece(iova + done, lengthBytes - done, AccessMode.WRITE, scratch);
            if (piece == 0) {
                throw new MemoryAccessException(refusal, iova + done, lengthBytes - done, "(device IOTLB)");
            }
            MemorySegment.copy(source, done, scratch.segment(), scratch.offset(), piece);
            done += piece;
        }
    }

    /** Asks for {@code iova} unless its page was asked since the last update. */
    private void askFor(final long iova, final int permissions) {
        if (table.additions() != additionsWhenAsked) {
            askedCount = 0;
            additionsWhenAsked = table.additions();
        }
        final long page = iova >>> PAGE_SHIFT;
        for (int i = 0; i < askedCount; i++) {
            if (askedPages[i] == page) {
                return;
            }
        }
        if (askedCount == OUTSTANDING_MISSES) {
            return;
        }
        if (misses.requestTranslation(iova, permissions)) {
            askedPages[askedCount++] = page;
            missDeferred = false;
            table.counters().increment(DeviceIotlbCounter.MISSES_SENT);
        } else {
            missDeferred = true;
            table.counters().increment(DeviceIotlbCounter.MISSES_DEFERRED);
        }
    }

    /** Forgets which misses were asked (the table was cleared: a new front-end, a reset). */
    public void forgetMisses() {
        askedCount = 0;
        missDeferred = false;
    }

    @Override
    public int poll() {
        return 0;
    }

    @Override
    public boolean readyToPark() {
        return !missDeferred;
    }

    @Override
    public String toString() {
        return "DeviceIotlbDmaSpace[" + table + "]";
    }
}

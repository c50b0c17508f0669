package io.vioplane.platform.memory;

import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.sys.Mmap;
import io.vioplane.platform.sys.Linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A guest's physical memory: a fixed set of non-overlapping {@link GuestMemoryRegion regions}, and the
 * accessors through which devices read and write it.
 *
 * <p>Immutable once built: a memory-table change builds a new instance and publishes it. Safe for any
 * number of reader threads. {@link #close()} unmaps what this instance mapped and closes the descriptors it
 * owns; any access through it afterwards fails with {@link IllegalStateException}, never a crash.
 *
 * <p>The typed accessors are {@link DmaSpace}'s defaults over {@link #translate}, the same ones an IOMMU decorator
 * inherits. All multi-byte accessors are little-endian (VIRTIO 1.x section 1.4). Plain accessors accept any
 * alignment; the acquire/release accessors require natural alignment and refuse anything else with
 * {@link MemoryAccessException.Reason#MISALIGNED}. {@link #translate} returns one segment and so refuses a
 * range that straddles two regions; {@link #read} and {@link #write} copy and explicitly support ranges
 * that span adjacent regions.
 */
public final class GuestMemory implements DmaSpace, AutoCloseable {
    private final GuestMemoryRegion[] regions;
    private final long[] startGpas;
    private final Arena arena;
    private final int[] ownedFds;
    private boolean closed;
    /** The region the last lookup found: most accesses fall in the same one. A hint only, racy by design. */
    private int lastHit;

    private GuestMemory(final GuestMemoryRegion[] regions, final Arena arena, final int[] ownedFds) {
        this.regions = regions;
        this.startGpas = new long[regions.length];
        for (int i = 0; i < regions.length; i++) {
            startGpas[i] = regions[i].gpa();
        }
        this.arena = arena;
        this.ownedFds = ownedFds;
    }

    /** @return a builder for a new guest memory */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param gpa       where the single region starts
     * @param sizeBytes how large it is
     * @return guest memory of one memfd-backed region, shareable with other processes
     */
    public static GuestMemory ofMemFd(final long gpa, final long sizeBytes) {
        return builder().addMemFd(gpa, sizeBytes).build();
    }

    /** @return the regions, in ascending guest-physical order */
    public List<GuestMemoryRegion> regions() {
        return List.of(regions);
    }

    /** @return how many regions there are */
    public int regionCount() {
        return regions.length;
    }

    /** @return the region containing {@code gpa}, or null */
    public GuestMemoryRegion regionAt(final long gpa) {
        final int index = indexOf(gpa);
        return index < 0 ? null : regions[index];
    }

    /** @return the sum of all region sizes */
    public long totalBytes() {
        long total = 0;
        for (GuestMemoryRegion region : regions) {
            total += region.sizeBytes();
        }
        return total;
    }

    private int indexOf(final long gpa) {
        final int hint = lastHit;
        final GuestMemoryRegion hinted = regions[hint];
        if (gpa >= hinted.gpa() && gpa < hinted.endGpa()) {
            return hint;
        }
        final int found = search(gpa);
        if (found >= 0) {
            lastHit = found;
        }
        return found;
    }

    private int search(final long gpa) {
        int low = 0;
        int high = startGpas.length - 1;
        while (low <= high) {
            final int mid = (low + high) >>> 1;
            if (startGpas[mid] <= gpa) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        if (high < 0) {
            return -1;
        }
        final GuestMemoryRegion region = regions[high];
        return gpa < region.endGpa() ? high : -1;
    }

    /**
     * Translates a guest-physical range to one segment of exactly {@code lengthBytes}.
     *
     * @throws MemoryAccessException OUT_OF_RANGE, OVERFLOW or CROSSES_REGIONS
     */
    @Override
    public MemorySegment translate(final long gpa, final long lengthBytes, final AccessMode mode) {
        final int index = checkedIndex(gpa, lengthBytes);
        final GuestMemoryRegion region = regions[index];
        if (!region.contains(gpa, lengthBytes)) {
            throw outsideRegion(index, gpa, lengthBytes);
        }
        return region.segment().asSlice(gpa - region.gpa(), lengthBytes);
    }

    @Override
    public boolean resolve(final long gpa, final long lengthBytes, final AccessMode mode, final DmaRange out) {
        if (lengthBytes < 0 || Long.compareUnsigned(gpa + lengthBytes, gpa) < 0) {
            return false;
        }
        final int index = indexOf(gpa);
        if (index < 0) {
            return false;
        }
        final GuestMemoryRegion region = regions[index];
        if (!region.contains(gpa, lengthBytes)) {
            return false;
        }
        out.set(region.segment(), gpa - region.gpa());
        return true;
    }

    private int checkedIndex(final long gpa, final long lengthBytes) {
        if (lengthBytes < 0) {
            throw new MemoryAccessException(MemoryAccessException.Reason.OVERFLOW, gpa, lengthBytes, "(negative length)");
        }
        if (Long.compareUnsigned(gpa + lengthBytes, gpa) < 0) {
            throw new MemoryAccessException(MemoryAccessException.Reason.OVERFLOW, gpa, lengthBytes, "");
        }
        final int index = indexOf(gpa);
        if (index < 0) {
            throw new MemoryAccessException(MemoryAccessException.Reason.OUT_OF_RANGE, gpa, lengthBytes, "");
        }
        return index;
    }

    private MemoryAccessException outsideRegion(final int index, final long gpa, final long lengthBytes) {
        final boolean continuesInNext = index + 1 < regions.length && regions[index + 1].gpa() == regions[index].endGpa()
                && gpa + lengthBytes <= totalSpanEnd(index);
        return new MemoryAccessException(continuesInNext ? MemoryAccessException.Reason.CROSSES_REGIONS
                : MemoryAccessException.Reason.OUT_OF_RANGE, gpa, lengthBytes, "");
    }

    private long totalSpanEnd(final int firstIndex) {
        long end = regions[firstIndex].endGpa();
        for (int i = firstIndex + 1; i < regions.length && regions[i].gpa() == end; i++) {
            end = regions[i].endGpa();
        }
        return end;
    }

    /**
     * Copies {@code destination.byteSize()} bytes from guest memory at {@code gpa}; the range may span
     * adjacent regions.
     *
     * @throws MemoryAccessException if any byte of the range is unmapped, or the range wraps
     */
    @Override
    public void read(final long gpa, final MemorySegment destination) {
        copy(gpa, destination, true);
    }

    /**
     * Copies {@code source} into guest memory at {@code gpa}; the range may span adjacent regions.
     *
     * @throws MemoryAccessException if any byte of the range is unmapped, or the range wraps
     */
    @Override
    public void write(final long gpa, final MemorySegment source) {
        copy(gpa, source, false);
    }

    private void copy(final long gpa, final MemorySegment buffer, final boolean toBuffer) {
        final long lengthBytes = buffer.byteSize();
        int index = checkedIndex(gpa, lengthBytes);
        if (lengthBytes > 0 && Long.compareUnsigned(gpa + lengthBytes, totalSpanEnd(index)) > 0) {
            throw new MemoryAccessException(MemoryAccessException.Reason.OUT_OF_RANGE, gpa, lengthBytes, "");
        }
        long done = 0;
        while (done < lengthBytes) {
            final GuestMemoryRegion region = regions[index];
            final long regionOffset = gpa + done - region.gpa();
            final long chunk = Math.min(lengthBytes - done, region.sizeBytes() - regionOffset);
            if (toBuffer) {
                MemorySegment.copy(region.segment(), regionOffset, buffer, done, chunk);
            } else {
                MemorySegment.copy(buffer, done, region.segment(), regionOffset, chunk);
            }
            done += chunk;
            index++;
        }
    }

    /** Unmaps what this instance mapped and closes the descriptors it owns. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (arena != null) {
            arena.close();
        }
        for (int fd : ownedFds) {
            FileIo.closeQuietly(fd);
        }
    }

    @Override
    public String toString() {
        return "GuestMemory" + Arrays.toString(regions);
    }

    /**
     * Assembles guest memory region by region. If {@link #build()} fails, or the builder is
     * {@link #abandon() abandoned}, everything it mapped is unmapped and every descriptor it owns closed.
     */
    public static final class Builder {
        private final List<GuestMemoryRegion> regions = new ArrayList<>();
        private final List<Integer> ownedFds = new ArrayList<>();
        private Arena arena;
        private boolean done;

        private Builder() {
        }

        private Arena arena() {
            if (arena == null) {
                arena = Arena.ofShared();
            }
            return arena;
        }

        /**
         * Adds a region backed by a new memfd, mapped shared: another process can map the same memory once
         * it has the descriptor ({@link GuestMemoryRegion#fd()}).
         */
        public Builder addMemFd(final long gpa, final long sizeBytes) {
            checkOpen();
            final int fd = MemFd.create("vioplane-guest-0x" + Long.toHexString(gpa), sizeBytes);
            ownedFds.add(fd);
            try {
                final MemorySegment mapping = Mmap.map(fd, 0, sizeBytes, Mmap.PROT_READ | Mmap.PROT_WRITE,
                        Mmap.MAP_SHARED, arena());
                regions.add(new GuestMemoryRegion(gpa, sizeBytes, mapping, fd, 0));
            } catch (RuntimeException e) {
                abandon();
                throw e;
            }
            return this;
        }

        /**
         * Adds a region mapped from a descriptor another process gave us (a vhost-user memory table entry).
         * The file must be at least {@code fdOffsetBytes + sizeBytes} long: a mapping past its end would
         * fault on access.
         *
         * @param takeOwnership close {@code fd} with the guest memory (and if this call fails)
         */
        public Builder addFromFd(final long gpa, final long sizeBytes, final int fd, final long fdOffsetBytes,
                                 final boolean takeOwnership) {
            checkOpen();
            if (takeOwnership) {
                ownedFds.add(fd);
            }
            try {
                if (sizeBytes <= 0 || fdOffsetBytes < 0 || fdOffsetBytes + sizeBytes < 0) {
                    throw new IllegalArgumentException("region of " + sizeBytes + " bytes at file offset "
                            + fdOffsetBytes + " is not a valid range");
                }
                final long fileBytes = FileIo.sizeOf(fd);
                if (fdOffsetBytes + sizeBytes > fileBytes) {
                    throw new IllegalArgumentException("region [offset " + fdOffsetBytes + ", +" + sizeBytes
                            + ") runs past the end of its file (" + fileBytes + " bytes)");
                }
                final long pageOffset = fdOffsetBytes & (PAGE_BYTES - 1);
                final MemorySegment mapping = Mmap.map(fd, fdOffsetBytes - pageOffset, sizeBytes + pageOffset,
                        Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, arena());
                regions.add(new GuestMemoryRegion(gpa, sizeBytes, mapping.asSlice(pageOffset, sizeBytes), fd,
                        fdOffsetBytes));
            } catch (RuntimeException e) {
                abandon();
                throw e;
            }
            return this;
        }

        /** Adds a region over memory the caller owns and keeps alive (no descriptor: not shareable). */
        public Builder addSegment(final long gpa, final MemorySegment segment) {
            checkOpen();
            try {
                regions.add(new GuestMemoryRegion(gpa, segment.byteSize(), segment, -1, 0));
            } catch (RuntimeException e) {
                abandon();
                throw e;
            }
            return this;
        }

        /**
         * @return the guest memory
         * @throws IllegalArgumentException if regions overlap or there are none (everything mapped is released)
         */
        public GuestMemory build() {
            checkOpen();
            try {
                if (regions.isEmpty()) {
                    throw new IllegalArgumentException("guest memory needs at least one region");
                }
                final GuestMemoryRegion[] sorted = regions.toArray(GuestMemoryRegion[]::new);
                Arrays.sort(sorted, Comparator.comparingLong(GuestMemoryRegion::gpa));
                for (int i = 1; i < sorted.length; i++) {
                    if (sorted[i].gpa() < sorted[i - 1].endGpa()) {
                        throw new IllegalArgumentException("regions overlap: " + sorted[i - 1] + " and " + sorted[i]);
                    }
                }
                done = true;
                return new GuestMemory(sorted, arena, ownedFds.stream().mapToInt(Integer::intValue).toArray());
            } catch (RuntimeException e) {
                abandon();
                throw e;
            }
        }

        /** Releases everything added so far; the builder cannot be used afterwards. */
        public void abandon() {
            if (done) {
                return;
            }
            done = true;
            if (arena != null) {
                arena.close();
            }
            for (int fd : ownedFds) {
                FileIo.closeQuietly(fd);
            }
        }

        private void checkOpen() {
            if (done) {
                throw new IllegalStateException("this builder was already built or abandoned");
            }
        }
    }

    private static final long PAGE_BYTES = Linux.pageSize();
}

package io.vioplane.vhostuser.backend;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;

import java.util.ArrayList;
import java.util.List;

/**
 * The front-end's memory table (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG): regions of guest memory, each with
 * its guest-physical address, the front-end's own virtual ("user") address, and the file descriptor to map.
 *
 * <p>Ring addresses arrive as user addresses; {@link #gpaOf} translates them. Each change builds a fresh
 * {@link GuestMemory} over all current regions (new mappings); the caller publishes it to the data plane and
 * closes the previous one once the data plane has moved on. The region descriptors are owned here, closed when
 * their region goes. Received memfds are sealed against shrinking where the front-end allows it, so that a
 * front-end cannot truncate memory under a running ring.
 */
public final class FrontEndMemory implements AutoCloseable {
    /** Memory slots offered to the front-end (GET_MAX_MEM_SLOTS). */
    public static final int MAX_SLOTS = 32;
    /**
     * How many times one region may be added without being removed: one per vhost device of the front-end, and
     * QEMU has at most one per queue pair (vhost-user allows 256 vrings, so 128 pairs) plus the control queue.
     */
    public static final int MAX_REFERENCES = 256;

    /**
     * One region as the front-end described it.
     *
     * @param gpa        guest-physical address
     * @param sizeBytes  length
     * @param userAddr   the front-end's virtual address of the region
     * @param mmapOffset where the region starts in the file
     * @param fd         the file (owned by this table)
     * @param sealed     true if the file is sealed against shrinking
     */
    public record Region(long gpa, long sizeBytes, long userAddr, long mmapOffset, int fd, boolean sealed) {
        boolean isSameAs(final long otherGpa, final long otherSizeBytes, final long otherUserAddr) {
            return gpa == otherGpa && sizeBytes == otherSizeBytes && userAddr == otherUserAddr;
        }

        boolean containsUserRange(final long address, final long length) {
            return Long.compareUnsigned(address, userAddr) >= 0 && length >= 0 && length <= sizeBytes
                    && Long.compareUnsigned(address - userAddr, sizeBytes - length) <= 0;
        }
    }

    private final List<Region> regions = new ArrayList<>();
    private final List<Integer> references = new ArrayList<>();

    /** @return the current regions */
    public List<Region> regions() {
        return List.copyOf(regions);
    }

    /** @return true if the front-end has sent a memory table */
    public boolean isEmpty() {
        return regions.isEmpty();
    }

    /**
     * Checks a region the front-end describes, before anything is mapped.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public void checkRegion(final long gpa, final long sizeBytes, final long userAddr, final long mmapOffset,
                            final List<Region> existing) {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("memory region of size " + sizeBytes);
        }
        if (gpa < 0 || gpa + sizeBytes < 0 || Long.compareUnsigned(userAddr + sizeBytes, userAddr) < 0
                || mmapOffset < 0 || mmapOffset + sizeBytes < 0) {
            throw new IllegalArgumentException("memory region [gpa 0x" + Long.toHexString(gpa) + ", size 0x"
                    + Long.toHexString(sizeBytes) + ", uaddr 0x" + Long.toHexString(userAddr) + ", offset 0x"
                    + Long.toHexString(mmapOffset) + "] overflows");
        }
        for (Region other : existing) {
            if (gpa < other.gpa() + other.sizeBytes() && other.gpa() < gpa + sizeBytes) {
                throw new IllegalArgumentException("memory region at gpa 0x" + Long.toHexString(gpa)
                        + " overlaps the region at gpa 0x" + Long.toHexString(other.gpa()));
            }
            if (Long.compareUnsigned(userAddr, other.userAddr() + other.sizeBytes()) < 0
                    && Long.compareUnsigned(other.userAddr(), userAddr + sizeBytes) < 0) {
                throw new IllegalArgumentException("memory region at uaddr 0x" + Long.toHexString(userAddr)
                        + " overlaps the region at uaddr 0x" + Long.toHexString(other.userAddr()));
            }
        }
    }

    /**
     * Replaces the whole table (SET_MEM_TABLE). On failure nothing changes and every new descriptor is closed.
     *
     * @param specs {gpa, size, uaddr, mmapOffset} per region
     * @param fds   one descriptor per region (ownership passes here)
     * @return guest memory over the new table; the caller closes the previous one when the data plane is done
     */
    public GuestMemory replace(final long[][] specs, final int[] fds) {
        final List<Region> fresh = new ArrayList<>();
        try {
            for (int i = 0; i < specs.length; i++) {
                checkRegion(specs[i][0], specs[i][1], specs[i][2], specs[i][3], fresh);
                fresh.add(new Region(specs[i][0], specs[i][1], specs[i][2], specs[i][3], fds[i],
                        MemFd.sealAgainstShrinking(fds[i])));
            }
            final GuestMemory memory = map(fresh);
            closeRegions(regions);
            regions.clear();
            regions.addAll(fresh);
            references.clear();
            fresh.forEach(region -> references.add(1));
            return memory;
        } catch (RuntimeException e) {
            for (int fd : fds) {
                FileIo.closeQuietly(fd);
            }
            throw e;
        }
    }

    /**
     * Counts one more reference to a region that stands in the table exactly as described (ADD_MEM_REG repeated
     * by another of the front-end's vhost devices). The caller closes the descriptor that came with it.
     *
     * @return true if such a region exists (its reference count went up), false if {@link #add} must decide
     * @throws IllegalArgumentException if it was added {@link #MAX_REFERENCES} times already
     */
    public boolean addReference(final long gpa, final long sizeBytes, final long userAddr, final long mmapOffset) {
        for (int i = 0; i < regions.size(); i++) {
            final Region region = regions.get(i);
            if (region.isSameAs(gpa, sizeBytes, userAddr) && region.mmapOffset() == mmapOffset) {
                if (references.get(i) >= MAX_REFERENCES) {
                    throw new IllegalArgumentException("memory region at gpa 0x" + Long.toHexString(gpa)
                            + " added " + MAX_REFERENCES + " times without being removed");
                }
                references.set(i, references.get(i) + 1);
                return true;
            }
        }
        return false;
    }

    /**
     * Takes one reference away from a region that more than one of the front-end's vhost devices added
     * (REM_MEM_REG; the offset is ignored, as the spec says).
     *
     * @return true if the region stays (other references remain), false if {@link #remove} must unmap it
     */
    public boolean dropSharedReference(final long gpa, final long sizeBytes, final long userAddr) {
        for (int i = 0; i < regions.size(); i++) {
            if (regions.get(i).isSameAs(gpa, sizeBytes, userAddr) && references.get(i) > 1) {
                references.set(i, references.get(i) - 1);
                return true;
            }
        }
        return false;
    }

    /** @return how many times the region at {@code gpa} was added and not yet removed (0 if there is none) */
    public int referencesAt(final long gpa) {
        for (int i = 0; i < regions.size(); i++) {
            if (regions.get(i).gpa() == gpa) {
                return references.get(i);
            }
        }
        return 0;
    }

    /**
     * Adds one region (ADD_MEM_REG); a repeat of a region already in the table goes to {@link #addReference}
     * first. On failure nothing changes and {@code fd} is closed.
     *
     * @return guest memory over the new table
     */
    public GuestMemory add(final long gpa, final long sizeBytes, final long userAddr, final long mmapOffset, final int fd) {
        try {
            if (regions.size() >= MAX_SLOTS) {
                throw new IllegalArgumentException("all " + MAX_SLOTS + " memory slots are in use");
            }
            checkRegion(gpa, sizeBytes, userAddr, mmapOffset, regions);
            final List<Region> fresh = new ArrayList<>(regions);
            fresh.add(new Region(gpa, sizeBytes, userAddr, mmapOffset, fd, MemFd.sealAgainstShrinking(fd)));
            final GuestMemory memory = map(fresh);
            regions.clear();
            regions.addAll(fresh);
            references.add(1);
            return memory;
        } catch (RuntimeException e) {
            FileIo.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Removes the region with this guest address, user address and size (REM_MEM_REG; the offset is ignored).
     *
     * @return guest memory over the remaining table, or null if no region is left
     * @throws IllegalArgumentException if no such region exists
     */
    public GuestMemory remove(final long gpa, final long sizeBytes, final long userAddr) {
        for (int i = 0; i < regions.size(); i++) {
            final Region region = regions.get(i);
            if (region.isSameAs(gpa, sizeBytes, userAddr)) {
                final List<Region> fresh = new ArrayList<>(regions);
                fresh.remove(i);
                final GuestMemory memory = fresh.isEmpty() ? null : map(fresh);
                regions.remove(i);
                references.remove(i);
                FileIo.closeQuietly(region.fd());
                return memory;
            }
        }
        throw new IllegalArgumentException("no memory region at gpa 0x" + Long.toHexString(gpa) + " of size 0x"
                + Long.toHexString(sizeBytes));
    }

    private static GuestMemory map(final List<Region> table) {
        final GuestMemory.Builder builder = GuestMemory.builder();
        for (Region region : table) {
            builder.addFromFd(region.gpa(), region.sizeBytes(), region.fd(), region.mmapOffset(), false);
        }
        return builder.build();
    }

    /**
     * Translates a front-end user address range to a guest-physical address.
     *
     * @return the gpa, or -1 if the range is not wholly inside one region
     */
    public long gpaOf(final long userAddr, final long lengthBytes) {
        for (Region region : regions) {
            if (region.containsUserRange(userAddr, lengthBytes)) {
                return region.gpa() + (userAddr - region.userAddr());
            }
        }
        return -1;
    }

    /**
     * Translates a front-end user address range that may span several regions (an IOTLB entry: QEMU
     * docs/interop/vhost-user.rst, "IOMMU support" says its addresses must lie in the memory table).
     *
     * @param sizeBytes unsigned
     * @return {length, gpa} pairs covering the range in order, or null if a byte of it is outside every region, it
     *     has no bytes, or it wraps
     */
    public long[] gpaPieces(final long userAddr, final long sizeBytes) {
        if (sizeBytes == 0 || Long.compareUnsigned(userAddr + (sizeBytes - 1), userAddr) < 0) {
            return null;
        }
        final List<Long> pieces = new ArrayList<>(2);
        long address = userAddr;
        long left = sizeBytes;
        while (left != 0) {
            Region holder = null;
            for (Region region : regions) {
                if (region.containsUserRange(address, 1)) {
                    holder = region;
                    break;
                }
            }
            if (holder == null) {
                return null;
            }
            final long room = holder.sizeBytes() - (address - holder.userAddr());
            final long piece = Long.compareUnsigned(left, room) < 0 ? left : room;
            pieces.add(piece);
            pieces.add(holder.gpa() + (address - holder.userAddr()));
            address += piece;
            left -= piece;
        }
        return pieces.stream().mapToLong(Long::longValue).toArray();
    }

    /** @return true if every region's file is sealed against shrinking */
    public boolean allSealed() {
        return regions.stream().allMatch(Region::sealed);
    }

    private static void closeRegions(final List<Region> table) {
        for (Region region : table) {
            FileIo.closeQuietly(region.fd());
        }
    }

    /** Closes every region's descriptor (the caller closes the guest memory mapped over them). */
    @Override
    public void close() {
        closeRegions(regions);
        regions.clear();
        references.clear();
    }
}

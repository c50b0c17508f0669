package io.vioplane.vhostuser.backend;

import io.vioplane.platform.memory.DmaSpace;

/**
 * Told of every IOTLB_MSG UPDATE the back-end applied (QEMU docs/interop/vhost-user.rst, "IOMMU support"), at the
 * moment it takes effect: a diagnostic and test hook, for example to check the front-end's translation against the
 * guest's own IOMMU tables while the mapping is certainly live (the ring that asked for it cannot have used it yet).
 *
 * <p>Runs on the data-plane thread, between duty cycles, with the front-end waiting for its acknowledgement: it
 * must be short, must not block, and must not keep {@code guestMemory} beyond the call (a memory-table change
 * unmaps it).
 */
@FunctionalInterface
public interface IotlbUpdateListener {
    /**
     * @param iova        first iova of the update
     * @param sizeBytes   its length (unsigned)
     * @param permissions vhost-user permissions: 1 read-only, 2 write-only, 3 read-write
     * @param gpaPieces   where it leads in guest-physical memory: {length, gpa} pairs in iova order (a user range
     *                    may span several memory regions); do not modify
     * @param guestMemory guest memory by guest-physical address, as the rings see it now
     */
    void updated(long iova, long sizeBytes, int permissions, long[] gpaPieces, DmaSpace guestMemory);
}

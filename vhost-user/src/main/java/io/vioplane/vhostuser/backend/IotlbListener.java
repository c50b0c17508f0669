package io.vioplane.vhostuser.backend;

import io.vioplane.platform.memory.DmaSpace;

/**
 * Told of every IOTLB_MSG UPDATE and INVALIDATE the back-end applied (QEMU docs/interop/vhost-user.rst, "IOMMU
 * support"), at the moment each takes effect: a diagnostic and test hook, for example to check the front-end's
 * translations against the guest's own IOMMU tables.
 *
 * <p>Runs on the data-plane thread, between duty cycles, with the front-end waiting for its acknowledgement: it
 * must be short, must not block, and must not keep {@code guestMemory} beyond the call (a memory-table change
 * unmaps it).
 */
@FunctionalInterface
public interface IotlbListener {
    /**
     * @param iova        first iova of the update
     * @param sizeBytes   its length (unsigned)
     * @param permissions vhost-user permissions: 1 read-only, 2 write-only, 3 read-write
     * @param gpaPieces   where it leads in guest-physical memory: {length, gpa} pairs in iova order (a user range
     *                    may span several memory regions); do not modify
     * @param guestMemory guest memory by guest-physical address, as the rings see it now
     */
    void updated(long iova, long sizeBytes, int permissions, long[] gpaPieces, DmaSpace guestMemory);

    /**
     * An INVALIDATE was applied: the device no longer uses {@code [iova, iova + sizeBytes)}.
     *
     * @param sizeBytes unsigned, not 0
     */
    default void invalidated(final long iova, final long sizeBytes) {
    }
}

package io.vioplane.vhostuser.backend;

import io.vioplane.iommu.DeviceIotlb;
import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.vring.DirtyPageLog;

/**
 * The dirty log seen through the device IOTLB (VHOST_F_LOG_ALL with VIRTIO_F_ACCESS_PLATFORM; QEMU
 * docs/interop/vhost-user.rst, "Migration" and "IOMMU support"). With an IOMMU every address the rings and devices
 * log is an iova: buffer segments, ring areas, and the used ring's log address, which QEMU also passes as an iova
 * (hw/virtio/vhost.c sets {@code log_guest_addr} to the ring's device address). The log itself is indexed by
 * guest-physical page: QEMU reads it by gpa, translating the used ring's iova itself (vhost_sync_dirty_bitmap),
 * and Linux's vhost logs translated addresses. So each marked range is translated here, piece by piece, through
 * the same table the write just went through (on the same data-plane thread, so the entry is still there); a piece
 * without a translation is not logged and is counted ({@link DeviceIotlbCounter#LOG_UNTRANSLATED}).
 */
final class IotlbDirtyLog implements DirtyPageLog {
    private static final long PAGE_BYTES = 0x1000;

    private final DeviceIotlb table;
    private final DirtyPageLog log;

    /**
     * @param table the device IOTLB the rings translate through
     * @param log   the front-end's log, by gpa
     */
    IotlbDirtyLog(final DeviceIotlb table, final DirtyPageLog log) {
        this.table = table;
        this.log = log;
    }

    @Override
    public void mark(final long iova, final long lengthBytes) {
        long done = 0;
        while (Long.compareUnsigned(done, lengthBytes) < 0) {
            final long at = iova + done;
            final long left = lengthBytes - done;
            final int index = table.indexOf(at);
            if (index < 0) {
                table.counters().increment(DeviceIotlbCounter.LOG_UNTRANSLATED);
                final long toNextPage = PAGE_BYTES - (at & (PAGE_BYTES - 1));
                done += Long.compareUnsigned(toNextPage, left) < 0 ? toNextPage : left;
                continue;
            }
            final long room = table.lastIova(index) - at + 1;
            final long piece = room == 0 || Long.compareUnsigned(room, left) >= 0 ? left : room;
            log.mark(table.firstGpa(index) + (at - table.firstIova(index)), piece);
            done += piece;
        }
    }
}

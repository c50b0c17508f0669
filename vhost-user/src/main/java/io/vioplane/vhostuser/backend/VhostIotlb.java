package io.vioplane.vhostuser.backend;

import io.vioplane.iommu.DeviceIotlb;
import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.iommu.DeviceIotlbDmaSpace;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.vhostuser.transport.BackendChannel;

/**
 * vhost-user's device IOTLB (QEMU docs/interop/vhost-user.rst, "IOMMU support"): with VIRTIO_F_ACCESS_PLATFORM,
 * ring and buffer addresses are iovas. The front-end sends translations of iovas to its own user addresses
 * (VHOST_USER_IOTLB_MSG, type UPDATE) and takes them back (INVALIDATE); this class checks each message, turns the
 * user addresses into guest-physical ones through the memory table, and applies it to the {@link DeviceIotlb} that the
 * rings' {@link DeviceIotlbDmaSpace} translates through. A translation the rings lack is asked for on the back-end
 * channel (BACKEND_IOTLB_MSG, type MISS) from the data plane, without waiting: the ring that needs it waits, the
 * others go on, and the next UPDATE wakes it.
 *
 * <p>Threads: {@link #apply} runs on the data-plane thread (the back-end sends it there as a command and waits), so
 * that an invalidation has taken effect for every ring when the front-end gets its acknowledgement, and every counter
 * has one writer. The back-end channel is set by the control plane and read by the data plane.
 */
final class VhostIotlb {
    /** vhost_iotlb_msg type: a miss (back-end to front-end). */
    static final int MISS = 1;
    /** vhost_iotlb_msg type: a translation. */
    static final int UPDATE = 2;
    /** vhost_iotlb_msg type: an invalidation. */
    static final int INVALIDATE = 3;
    /** vhost_iotlb_msg type: an access failure (back-end to front-end). */
    static final int ACCESS_FAIL = 4;
    /** How long a miss request the socket took in part may take to complete. */
    private static final long PARTIAL_SEND_TIMEOUT_MS = 100;

    private final DeviceIotlb table;
    private final DeviceIotlbDmaSpace space;
    private volatile BackendChannel channel;
    private DmaSpace memory;
    private IotlbListener listener;

    VhostIotlb(final CounterSet<DeviceIotlbCounter> counters) {
        this.table = new DeviceIotlb(counters);
        this.space = new DeviceIotlbDmaSpace(table, null, this::requestTranslation);
    }

    /** @return the rings' DMA space while ACCESS_PLATFORM is negotiated */
    DeviceIotlbDmaSpace space() {
        return space;
    }

    /** @return the translations (data-plane thread) */
    DeviceIotlb table() {
        return table;
    }

    /** Sets the back-end channel misses go to (null: none yet, misses wait). */
    void channel(final BackendChannel backendChannel) {
        this.channel = backendChannel;
    }

    /** Data-plane thread: the guest memory the translations lead into. */
    void memory(final DmaSpace memory) {
        this.memory = memory;
        space.memory(memory);
    }

    /** Data-plane thread: who is told of each applied UPDATE and INVALIDATE (null: nobody). */
    void listener(final IotlbListener updateListener) {
        this.listener = updateListener;
    }

    private boolean requestTranslation(final long iova, final int permissions) {
        final BackendChannel backend = channel;
        return backend != null && backend.tryIotlbMiss(iova, permissions, PARTIAL_SEND_TIMEOUT_MS);
    }

    /**
     * Data-plane thread: applies one IOTLB message.
     *
     * @param gpaPieces for an UPDATE, its user-address range in guest-physical pieces ({length, gpa} pairs, from
     *                  {@link FrontEndMemory#gpaPieces}), or null if the range is not wholly in the memory table; an
     *                  UPDATE is applied whole or not at all (every piece is checked before any is added)
     * @return null if applied, else why it was refused (counted)
     */
    String apply(final int type, final long iova, final long sizeBytes, final long userAddr, final int permissions,
                 final long[] gpaPieces) {
        return switch (type) {
            case UPDATE -> update(iova, sizeBytes, userAddr, permissions, gpaPieces);
            case INVALIDATE -> {
                final DeviceIotlb.Outcome outcome = table.invalidate(iova, sizeBytes);
                final IotlbListener told = listener;
                if (outcome == DeviceIotlb.Outcome.APPLIED && told != null) {
                    told.invalidated(iova, sizeBytes);
                }
                yield outcome == DeviceIotlb.Outcome.APPLIED ? null
                        : "INVALIDATE of [iova 0x" + Long.toHexString(iova) + ", size 0x" + Long.toHexString(sizeBytes)
                                + ") refused: " + describe(outcome);
            }
            default -> {
                table.counters().increment(DeviceIotlbCounter.REFUSED_TYPE);
                yield "IOTLB_MSG of type " + type + " (" + (type == MISS ? "MISS" : "ACCESS_FAIL")
                        + ") goes from the back-end to the front-end, not the other way";
            }
        };
    }

    private String update(final long iova, final long sizeBytes, final long userAddr, final int permissions,
                          final long[] gpaPieces) {
        final String what = "UPDATE of [iova 0x" + Long.toHexString(iova) + ", size 0x" + Long.toHexString(sizeBytes)
                + ") to uaddr 0x" + Long.toHexString(userAddr) + " perm " + permissions;
        DeviceIotlb.Outcome outcome = DeviceIotlb.checkRange(iova, sizeBytes);
        if (outcome == DeviceIotlb.Outcome.APPLIED && (permissions < 1 || permissions > 3)) {
            outcome = DeviceIotlb.Outcome.NO_PERMISSIONS;
        }
        if (outcome != DeviceIotlb.Outcome.APPLIED) {
            return what + " refused: " + describe(table.update(iova, sizeBytes, 0, permissions));
        }
        if (gpaPieces == null) {
            table.counters().increment(DeviceIotlbCounter.REFUSED_OUTSIDE_MEMORY);
            return what + " refused: the user addresses are not wholly inside the memory table";
        }
        long offset = 0;
        for (int i = 0; i < gpaPieces.length; i += 2) {
            final DeviceIotlb.Outcome piece = table.check(iova + offset, gpaPieces[i], gpaPieces[i + 1], permissions);
            if (piece != DeviceIotlb.Outcome.APPLIED && piece != DeviceIotlb.Outcome.DUPLICATE) {
                table.update(iova + offset, gpaPieces[i], gpaPieces[i + 1], permissions);
                return what + " refused" + (i == 0 ? "" : " whole (its piece " + (i / 2 + 1) + " of "
                        + gpaPieces.length / 2 + ", in another memory region, could not be added; no piece was)")
                        + ": " + describe(piece);
            }
            offset += gpaPieces[i];
        }
        offset = 0;
        for (int i = 0; i < gpaPieces.length; i += 2) {
            table.update(iova + offset, gpaPieces[i], gpaPieces[i + 1], permissions);
            offset += gpaPieces[i];
        }
        final IotlbListener told = listener;
        if (told != null && memory != null) {
            told.updated(iova, sizeBytes, permissions, gpaPieces, memory);
        }
        return null;
    }

    private static String describe(final DeviceIotlb.Outcome outcome) {
        return switch (outcome) {
            case ZERO_SIZE -> "the range has no bytes";
            case WRAPS -> "the range wraps the address space";
            case NO_PERMISSIONS -> "no read or write permission";
            case OVERLAP -> "it overlaps an entry that translates differently (invalidate that first)";
            case APPLIED, DUPLICATE -> "applied";
        };
    }

    /** Data-plane thread: forgets every translation (front-end gone, device reset). */
    void clear() {
        table.clear();
        space.forgetMisses();
    }
}

package io.vioplane.vring;

/**
 * Device-independent feature bits (VIRTIO 1.x section 6, "Reserved Feature Bits") and helpers over 64-bit
 * feature words.
 */
public final class VirtioFeature {
    /** Indirect descriptor tables (section 2.7.5.3 / 2.8.19). */
    public static final int INDIRECT_DESC = 28;
    /**
     * vhost's VHOST_F_LOG_ALL (26): the back-end logs the guest pages it writes in the dirty log (live migration;
     * QEMU docs/interop/vhost-user.rst, "Migration").
     */
    public static final int LOG_ALL = 26;
    /** used_event / avail_event notification suppression (section 2.7.7 / 2.7.10). */
    public static final int EVENT_IDX = 29;
    /** Compliance with VIRTIO 1.x (not legacy). */
    public static final int VERSION_1 = 32;
    /** Addresses are translated by an IOMMU (device IOTLB). */
    public static final int ACCESS_PLATFORM = 33;
    /** The packed virtqueue layout (section 2.8). */
    public static final int RING_PACKED = 34;
    /** The device uses buffers in the order they were made available (section 2.7.9 / 2.8.13). */
    public static final int IN_ORDER = 35;
    /** Memory ordering as the platform defines it for real hardware. */
    public static final int ORDER_PLATFORM = 36;
    /** Single-root I/O virtualization. */
    public static final int SR_IOV = 37;
    /** The driver passes extra data in its notifications. */
    public static final int NOTIFICATION_DATA = 38;
    /** Individual queues can be reset. */
    public static final int RING_RESET = 40;

    private VirtioFeature() {
    }

    /** @return the mask of feature {@code bit} */
    public static long bit(final int bit) {
        return 1L << bit;
    }

    /** @return true if {@code features} has {@code bit} */
    public static boolean has(final long features, final int bit) {
        return (features & (1L << bit)) != 0;
    }

    /** @return a mask of all the given bits */
    public static long mask(final int... bits) {
        long mask = 0;
        for (int bit : bits) {
            mask |= 1L << bit;
        }
        return mask;
    }

    /** @return the ring-level features the vring module implements (both layouts) */
    public static long ringFeatures() {
        return mask(INDIRECT_DESC, EVENT_IDX, VERSION_1, RING_PACKED, IN_ORDER);
    }
}

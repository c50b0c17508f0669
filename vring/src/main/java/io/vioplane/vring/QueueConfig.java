package io.vioplane.vring;

/**
 * What the driver told the device about one queue: its size and the guest addresses of its three areas
 * (VIRTIO 1.x section 2.6: Descriptor Area, Driver Area, Device Area), and the negotiated features that
 * shape how the ring is used.
 *
 * @param size        number of descriptors
 * @param descGpa     Descriptor Area: descriptor table (split) or descriptor ring (packed)
 * @param driverGpa   Driver Area: available ring (split) or driver event suppression (packed)
 * @param deviceGpa   Device Area: used ring (split) or device event suppression (packed)
 * @param features    the negotiated feature word (ring bits are read from it)
 */
public record QueueConfig(int size, long descGpa, long driverGpa, long deviceGpa, long features) {
    /** The largest queue either layout allows. */
    public static final int MAX_SIZE = 32768;

    /** @return true if VIRTIO_F_RING_PACKED is negotiated */
    public boolean packed() {
        return VirtioFeature.has(features, VirtioFeature.RING_PACKED);
    }

    /** @return true if VIRTIO_F_EVENT_IDX is negotiated */
    public boolean eventIdx() {
        return VirtioFeature.has(features, VirtioFeature.EVENT_IDX);
    }

    /** @return true if VIRTIO_F_INDIRECT_DESC is negotiated */
    public boolean indirect() {
        return VirtioFeature.has(features, VirtioFeature.INDIRECT_DESC);
    }

    /** @return true if VIRTIO_F_IN_ORDER is negotiated */
    public boolean inOrder() {
        return VirtioFeature.has(features, VirtioFeature.IN_ORDER);
    }

    /** @return this configuration with a different feature word */
    public QueueConfig withFeatures(final long newFeatures) {
        return new QueueConfig(size, descGpa, driverGpa, deviceGpa, newFeatures);
    }
}

package io.vioplane.virtioblk;

import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.device.FeatureRules;

/**
 * The virtio-blk feature bits (VIRTIO 1.x section 5.2.3) and the set this device offers.
 */
public final class VirtioBlkFeature {
    /** size_max in the configuration is the largest segment. */
    public static final int SIZE_MAX = 1;
    /** seg_max in the configuration is the most data segments per request. */
    public static final int SEG_MAX = 2;
    /** Legacy disk geometry (not offered). */
    public static final int GEOMETRY = 4;
    /** The device is read-only. */
    public static final int RO = 5;
    /** blk_size in the configuration is the logical block size. */
    public static final int BLK_SIZE = 6;
    /** The device takes FLUSH requests. */
    public static final int FLUSH = 9;
    /** The topology fields of the configuration are valid. */
    public static final int TOPOLOGY = 10;
    /** The driver may switch between writeback and writethrough through the configuration's writeback field. */
    public static final int CONFIG_WCE = 11;
    /** num_queues in the configuration says how many request queues there are. */
    public static final int MQ = 12;
    /** The device takes DISCARD requests. */
    public static final int DISCARD = 13;
    /** The device takes WRITE_ZEROES requests. */
    public static final int WRITE_ZEROES = 14;

    /** The dependencies between features (section 5.2.3: none beyond VERSION_1 for a modern device). */
    public static final FeatureRules RULES = FeatureRules.builder().build();

    private VirtioBlkFeature() {
    }

    /**
     * @param readOnly offer RO (and neither DISCARD nor WRITE_ZEROES)
     * @param queues   request queues; MQ is offered when more than one
     * @return every feature this device offers, ring features included
     */
    public static long offered(final boolean readOnly, final int queues) {
        long features = VirtioFeature.mask(SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, TOPOLOGY, CONFIG_WCE)
                | VirtioFeature.mask(VirtioFeature.VERSION_1, VirtioFeature.INDIRECT_DESC, VirtioFeature.EVENT_IDX,
                        VirtioFeature.RING_PACKED, VirtioFeature.IN_ORDER);
        features |= readOnly ? VirtioFeature.bit(RO) : VirtioFeature.mask(DISCARD, WRITE_ZEROES);
        if (queues > 1) {
            features |= VirtioFeature.bit(MQ);
        }
        return features;
    }
}

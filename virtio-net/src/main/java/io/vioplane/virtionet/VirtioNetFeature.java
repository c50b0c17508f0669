package io.vioplane.virtionet;

import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.device.FeatureRules;

/**
 * virtio-net feature bits (VIRTIO 1.x section 5.1.3) and the dependencies between them (5.1.3.1).
 */
public final class VirtioNetFeature {
    public static final int CSUM = 0;
    public static final int GUEST_CSUM = 1;
    public static final int CTRL_GUEST_OFFLOADS = 2;
    public static final int MTU = 3;
    public static final int MAC = 5;
    public static final int GUEST_TSO4 = 7;
    public static final int GUEST_TSO6 = 8;
    public static final int GUEST_ECN = 9;
    public static final int GUEST_UFO = 10;
    public static final int HOST_TSO4 = 11;
    public static final int HOST_TSO6 = 12;
    public static final int HOST_ECN = 13;
    public static final int HOST_UFO = 14;
    public static final int MRG_RXBUF = 15;
    public static final int STATUS = 16;
    public static final int CTRL_VQ = 17;
    public static final int CTRL_RX = 18;
    public static final int CTRL_VLAN = 19;
    public static final int GUEST_ANNOUNCE = 21;
    public static final int MQ = 22;
    public static final int CTRL_MAC_ADDR = 23;

    private VirtioNetFeature() {
    }

    /** The dependency rules of section 5.1.3.1. */
    public static final FeatureRules RULES = FeatureRules.builder()
            .requires(GUEST_TSO4, "VIRTIO_NET_F_GUEST_TSO4 requires VIRTIO_NET_F_GUEST_CSUM", GUEST_CSUM)
            .requires(GUEST_TSO6, "VIRTIO_NET_F_GUEST_TSO6 requires VIRTIO_NET_F_GUEST_CSUM", GUEST_CSUM)
            .requires(GUEST_ECN, "VIRTIO_NET_F_GUEST_ECN requires VIRTIO_NET_F_GUEST_TSO4 or TSO6", GUEST_TSO4, GUEST_TSO6)
            .requires(GUEST_UFO, "VIRTIO_NET_F_GUEST_UFO requires VIRTIO_NET_F_GUEST_CSUM", GUEST_CSUM)
            .requires(HOST_TSO4, "VIRTIO_NET_F_HOST_TSO4 requires VIRTIO_NET_F_CSUM", CSUM)
            .requires(HOST_TSO6, "VIRTIO_NET_F_HOST_TSO6 requires VIRTIO_NET_F_CSUM", CSUM)
            .requires(HOST_ECN, "VIRTIO_NET_F_HOST_ECN requires VIRTIO_NET_F_HOST_TSO4 or TSO6", HOST_TSO4, HOST_TSO6)
            .requires(HOST_UFO, "VIRTIO_NET_F_HOST_UFO requires VIRTIO_NET_F_CSUM", CSUM)
            .requires(CTRL_RX, "VIRTIO_NET_F_CTRL_RX requires VIRTIO_NET_F_CTRL_VQ", CTRL_VQ)
            .requires(CTRL_VLAN, "VIRTIO_NET_F_CTRL_VLAN requires VIRTIO_NET_F_CTRL_VQ", CTRL_VQ)
            .requires(GUEST_ANNOUNCE, "VIRTIO_NET_F_GUEST_ANNOUNCE requires VIRTIO_NET_F_CTRL_VQ", CTRL_VQ)
            .requires(MQ, "VIRTIO_NET_F_MQ requires VIRTIO_NET_F_CTRL_VQ", CTRL_VQ)
            .requires(CTRL_MAC_ADDR, "VIRTIO_NET_F_CTRL_MAC_ADDR requires VIRTIO_NET_F_CTRL_VQ", CTRL_VQ)
            .requires(CTRL_GUEST_OFFLOADS, "VIRTIO_NET_F_CTRL_GUEST_OFFLOADS requires VIRTIO_NET_F_CTRL_VQ", CTRL_VQ)
            .build();

    /** @return every feature vioplane's net device can offer (ring features included) */
    public static long all() {
        return VirtioFeature.mask(CSUM, GUEST_CSUM, MTU, MAC, GUEST_TSO4, GUEST_TSO6, HOST_TSO4, HOST_TSO6, MRG_RXBUF,
                STATUS, CTRL_VQ, CTRL_RX, GUEST_ANNOUNCE, MQ, CTRL_MAC_ADDR, VirtioFeature.LOG_ALL)
                | VirtioFeature.ringFeatures();
    }
}

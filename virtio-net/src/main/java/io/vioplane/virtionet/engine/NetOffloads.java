package io.vioplane.virtionet.engine;

import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.vring.VirtioFeature;

/**
 * The offloads a guest negotiated, read once from the feature word at activation: what it may send (host
 * checksum, TSO, UFO) and what it can receive (guest checksum, TSO, UFO, mergeable buffers).
 *
 * @param features the negotiated feature word
 */
public record NetOffloads(long features) {
    private boolean has(final int bit) {
        return VirtioFeature.has(features, bit);
    }

    /** @return the guest may send frames whose checksum the device completes */
    public boolean hostChecksum() {
        return has(VirtioNetFeature.CSUM);
    }

    /** @return the guest may send TCPv4 GSO frames */
    public boolean hostTso4() {
        return has(VirtioNetFeature.HOST_TSO4);
    }

    /** @return the guest may send TCPv6 GSO frames */
    public boolean hostTso6() {
        return has(VirtioNetFeature.HOST_TSO6);
    }

    /** @return the guest may send UFO frames */
    public boolean hostUfo() {
        return has(VirtioNetFeature.HOST_UFO);
    }

    /** @return the guest accepts frames with a checksum still to complete */
    public boolean guestChecksum() {
        return has(VirtioNetFeature.GUEST_CSUM);
    }

    /** @return the guest accepts TCPv4 GSO frames */
    public boolean guestTso4() {
        return has(VirtioNetFeature.GUEST_TSO4);
    }

    /** @return the guest accepts TCPv6 GSO frames */
    public boolean guestTso6() {
        return has(VirtioNetFeature.GUEST_TSO6);
    }

    /** @return the guest accepts UFO frames */
    public boolean guestUfo() {
        return has(VirtioNetFeature.GUEST_UFO);
    }

    /** @return the guest uses mergeable receive buffers */
    public boolean mergeable() {
        return has(VirtioNetFeature.MRG_RXBUF);
    }
}

package io.vioplane.tap.nat;

import io.vioplane.platform.packet.Ipv4Prefix;

import java.util.Arrays;

/**
 * Which MAC address each guest address of the subnet was last seen at (the gateway's ARP cache on the guest
 * side, RFC 826): learned from DHCP acknowledgements and from frames whose source passed the spoofing checks,
 * used to address frames coming back from the host side. One slot per address of the subnet; no allocation.
 */
public final class GuestNeighbors {
    /** No MAC known. */
    static final long UNKNOWN = -1;
    private final Ipv4Prefix subnet;
    private final long[] macs;

    public GuestNeighbors(final Ipv4Prefix subnet) {
        this.subnet = subnet;
        this.macs = new long[(int) subnet.size()];
        Arrays.fill(macs, UNKNOWN);
    }

    /** Records that {@code address} is at {@code mac}. */
    public void learn(final int address, final long mac) {
        if (subnet.contains(address)) {
            macs[subnet.hostOffset(address)] = mac;
        }
    }

    /** Forgets {@code address} if it is at {@code mac}. */
    public void forget(final int address, final long mac) {
        if (subnet.contains(address) && macs[subnet.hostOffset(address)] == mac) {
            macs[subnet.hostOffset(address)] = UNKNOWN;
        }
    }

    /** @return the MAC address of {@code address}, or {@link #UNKNOWN} */
    long macOf(final int address) {
        return subnet.contains(address) ? macs[subnet.hostOffset(address)] : UNKNOWN;
    }
}

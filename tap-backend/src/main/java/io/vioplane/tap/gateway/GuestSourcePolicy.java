package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatDrop;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.Ipv4Prefix;

/**
 * Which source addresses a guest may use (ingress filtering, RFC 2827 / BCP 38, applied per guest): an address
 * of the guest subnet that is not the gateway's, network or broadcast address; with leased-source enforcement,
 * only the address DHCP leased to that guest's MAC.
 */
final class GuestSourcePolicy {
    private final Ipv4Prefix subnet;
    private final int gateway;
    private final boolean enforceLeased;
    private final DhcpLeases leases;

    GuestSourcePolicy(final NatConfig config, final DhcpLeases leases) {
        this.subnet = config.guestSubnet();
        this.gateway = config.gateway().value();
        this.enforceLeased = config.enforceLeasedSource();
        this.leases = leases;
    }

    /** @return null if the guest at {@code mac} may send from {@code address}, else why not */
    NatDrop check(final int address, final long mac) {
        if (!subnet.contains(address) || address == gateway || address == subnet.network().value()
                || address == subnet.broadcast()) {
            return Ipv4Address.isMartianSource(address) ? NatDrop.MARTIAN_SOURCE : NatDrop.SOURCE_OUTSIDE_SUBNET;
        }
        if (enforceLeased && !leases.leasedTo(address, mac)) {
            return NatDrop.SPOOFED_SOURCE;
        }
        return null;
    }
}

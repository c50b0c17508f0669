package io.vioplane.cli;

import io.vioplane.tap.device.TapDevice;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.Ipv4Prefix;
import io.vioplane.tap.gateway.NatConfig;
import io.vioplane.tap.nat.PortForward;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code vhost-user-net} options of the virtual gateway ({@link io.vioplane.tap.gateway.NatGateway}): NAT onto a
 * TAP of its own ({@code --nat}) or host-only ({@code --host-only}), the guests' subnet, DNS and port forwards.
 * Turned into a validated {@link NatConfig} by {@link #toConfig}; defaults follow QEMU's user networking
 * (10.0.2.0/24, gateway .2, leases from .15).
 */
final class GatewayOptions {
    private static final int HOST_OFFLOADS = TapDevice.TUN_F_CSUM | TapDevice.TUN_F_TSO4 | TapDevice.TUN_F_TSO6;

    @Option(names = "--nat", paramLabel = "TAP",
            description = "Put a NAT gateway (DHCP, ARP, ping, NAPT, port forwards) on the guests' bridge; guests'"
                    + " flows leave from --nat-address on this TAP (created if absent).")
    String natTap;

    @Option(names = "--nat-address", paramLabel = "ADDR/LEN", defaultValue = "10.0.3.2/24",
            description = "The NAT's own address on its TAP link (default: ${DEFAULT-VALUE}).")
    String natAddress;

    @Option(names = "--nat-router", paramLabel = "ADDR",
            description = "The next hop on the NAT's TAP link, normally the host's address on that TAP"
                    + " (default: the link's first address, e.g. 10.0.3.1).")
    String natRouter;

    @Option(names = "--host-only",
            description = "Put a host-only gateway (DHCP, ARP, ping; nothing forwarded) on the guests' bridge.")
    boolean hostOnly;

    @Option(names = "--subnet", paramLabel = "CIDR", defaultValue = "10.0.2.0/24",
            description = "The guests' subnet behind the gateway; the gateway is its .2, leases start at .15"
                    + " (default: ${DEFAULT-VALUE}).")
    String subnet;

    @Option(names = "--static-addresses",
            description = "Let guests send from any address of --subnet, not only one they leased by DHCP (guests"
                    + " configured statically, traffic generators).")
    boolean staticAddresses;

    @Option(names = "--dns", paramLabel = "ADDR", description = "A DNS server handed to guests by DHCP.")
    String dns;

    @Option(names = "--forward", paramLabel = "tcp|udp:HOSTPORT:GUESTIP:GUESTPORT",
            description = "With --nat: forward a port of --nat-address to a guest (repeatable).")
    List<String> forwards = new ArrayList<>();

    /** @return true if a gateway was asked for */
    boolean requested() {
        return natTap != null || hostOnly;
    }

    /**
     * @param guestMtu the MTU offered to guests
     * @return the gateway's configuration, or null if none was asked for
     * @throws IllegalArgumentException naming the option at fault
     */
    NatConfig toConfig(final int guestMtu) {
        if (!requested()) {
            if (!forwards.isEmpty()) {
                throw new IllegalArgumentException("--forward needs --nat");
            }
            return null;
        }
        if (natTap != null && hostOnly) {
            throw new IllegalArgumentException("--nat and --host-only exclude each other");
        }
        final Ipv4Prefix guestSubnet = Ipv4Prefix.parse(subnet);
        final long size = guestSubnet.size();
        final int network = guestSubnet.network().value();
        final int firstGuestOffset = size >= 64 ? 15 : 3;
        final NatConfig.Builder builder = NatConfig.builder()
                .guestSubnet(guestSubnet)
                .gateway(new Ipv4Address(network + 2))
                .firstGuestAddress(new Ipv4Address(network + firstGuestOffset))
                .leasePoolSize((int) Math.min(16, size - firstGuestOffset - 1))
                .guestMtu(guestMtu)
                .enforceLeasedSource(!staticAddresses);
        if (dns != null) {
            builder.dnsServer(Ipv4Address.parse(dns));
        }
        if (hostOnly) {
            if (!forwards.isEmpty()) {
                throw new IllegalArgumentException("--forward needs --nat, not --host-only");
            }
            return builder.hostOnly().build();
        }
        final int slash = natAddress.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("--nat-address must be ADDR/LEN: " + natAddress);
        }
        final Ipv4Address address = Ipv4Address.parse(natAddress.substring(0, slash));
        final int prefixLength;
        try {
            prefixLength = Integer.parseInt(natAddress.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--nat-address prefix length is not a number: " + natAddress);
        }
        if (prefixLength < 1 || prefixLength > 30) {
            throw new IllegalArgumentException("--nat-address prefix length must be 1..30: " + natAddress);
        }
        final Ipv4Address router = natRouter != null ? Ipv4Address.parse(natRouter)
                : new Ipv4Address(Ipv4Prefix.containing(address, prefixLength).network().value() + 1);
        for (String forward : forwards) {
            builder.forward(PortForward.parse(forward));
        }
        return builder.nat(natTap, address, prefixLength, router).hostOffloads(HOST_OFFLOADS).build();
    }
}

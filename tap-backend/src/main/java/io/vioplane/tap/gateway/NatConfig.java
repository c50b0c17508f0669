package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatTimeouts;
import io.vioplane.tap.nat.PortForward;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.Ipv4Prefix;
import io.vioplane.platform.packet.MacAddress;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The NAT gateway's configuration, validated once when it is made: every violation is an
 * {@link IllegalArgumentException} whose message names the component ("nat config: gateway ...").
 *
 * <p>The guest side is a virtual subnet behind a gateway that answers ARP (RFC 826), ICMP echo (RFC 792) and
 * DHCP (RFC 2131/2132) for itself; the defaults are those of QEMU's user networking: 10.0.2.0/24, gateway
 * 10.0.2.2 at 52:55:0a:00:02:02, 16 leases from 10.0.2.15, a lease of one day. In {@link NatMode#NAT} the host
 * side is a TAP device the gateway owns, on which it has its own address and resolves a next hop.
 *
 * @param mode                    NAT or host-only
 * @param guestSubnet             the guests' network, /16 to /30 (the gateway keeps per-address state)
 * @param gateway                 the gateway's address in {@code guestSubnet}
 * @param gatewayMac              the gateway's virtual MAC address on the guests' bridge
 * @param firstGuestAddress       the first address DHCP hands out
 * @param leasePoolSize           how many consecutive addresses DHCP hands out from {@code firstGuestAddress}
 * @param leaseTimeSeconds        the DHCP lease time (option 51)
 * @param dnsServer               the DNS server given to guests (option 6); null for none. Outside
 *                                {@code guestSubnet}: the gateway does not proxy DNS, it routes to it
 * @param enforceLeasedSource     a guest may send only from the address it leased (else from any address of
 *                                {@code guestSubnet} that is not the gateway's)
 * @param guestMtu                the guests' MTU
 * @param tapName                 NAT mode: the host-side TAP interface (created if absent); host-only: null
 * @param hostAddress             NAT mode: the gateway's own address on the TAP link; guests' flows leave from it
 * @param hostPrefixLength        NAT mode: the TAP link's prefix length
 * @param nextHop                 NAT mode: the router on the TAP link for destinations outside it
 * @param hostMac                 NAT mode: the gateway's MAC address on the TAP link
 * @param hostMtu                 NAT mode: the TAP link's MTU
 * @param hostOffloads            NAT mode: TUN_F_* offloads the kernel may use on frames toward the gateway
 *                                (checksum, TSO): the guests must accept them
 * @param forwards                NAT mode: port forwarding rules
 * @param timeouts                state lifetimes
 * @param connectionCapacity      the connection table's size
 * @param perGuestConnectionLimit the most connections one guest address may hold
 */
public record NatConfig(NatMode mode, Ipv4Prefix guestSubnet, Ipv4Address gateway, MacAddress gatewayMac,
                        Ipv4Address firstGuestAddress, int leasePoolSize, long leaseTimeSeconds,
                        Ipv4Address dnsServer, boolean enforceLeasedSource, int guestMtu, String tapName,
                        Ipv4Address hostAddress, int hostPrefixLength, Ipv4Address nextHop, MacAddress hostMac,
                        int hostMtu, int hostOffloads, List<PortForward> forwards, NatTimeouts timeouts,
                        int connectionCapacity, int perGuestConnectionLimit) {
    /** The smallest MTU a link may have: 576 (RFC 791's datagram every host must accept; DHCP needs it). */
    public static final int MIN_MTU = 576;
    /** The largest MTU accepted. */
    public static final int MAX_MTU = 16_384;
    /** The largest connection table. */
    public static final int MAX_CONNECTIONS = 1 << 20;
    /** TUN_F_CSUM | TSO4 | TSO6 | TSO_ECN | UFO. */
    private static final int TUN_FLAGS = 0x1F;

    /** Validates every component; see the class comment. */
    public NatConfig {
        require(mode != null, "mode", "is required");
        require(guestSubnet != null, "guestSubnet", "is required");
        require(guestSubnet.lengthBits() >= 16 && guestSubnet.lengthBits() <= 30, "guestSubnet",
                "prefix length must be 16..30: " + guestSubnet);
        require(gateway != null, "gateway", "is required");
        requireHostOf(guestSubnet, gateway, "gateway");
        require(gatewayMac != null && !gatewayMac.isGroup() && gatewayMac.value() != 0, "gatewayMac",
                "must be a unicast address: " + gatewayMac);
        require(firstGuestAddress != null, "firstGuestAddress", "is required");
        requireHostOf(guestSubnet, firstGuestAddress, "firstGuestAddress");
        require(leasePoolSize >= 1 && leasePoolSize <= 65_536, "leasePoolSize", "must be 1..65536: " + leasePoolSize);
        final long last = (firstGuestAddress.value() & 0xFFFF_FFFFL) + leasePoolSize - 1;
        require(last <= 0xFFFF_FFFFL && guestSubnet.contains((int) last) && (int) last != guestSubnet.broadcast(),
                "leasePoolSize", leasePoolSize + " addresses from " + firstGuestAddress + " leave guestSubnet "
                        + guestSubnet);
        require(Integer.compareUnsigned(gateway.value(), firstGuestAddress.value()) < 0
                        || Integer.compareUnsigned(gateway.value(), (int) last) > 0, "firstGuestAddress",
                "the lease pool " + firstGuestAddress + ".." + Ipv4Address.format((int) last)
                        + " holds the gateway " + gateway);
        require(leaseTimeSeconds >= 60 && leaseTimeSeconds < 0xFFFF_FFFFL, "leaseTimeSeconds",
                "must be 60..4294967294: " + leaseTimeSeconds);
        if (dnsServer != null) {
            require(!Ipv4Address.isMartianSource(dnsServer.value()), "dnsServer",
                    "is not a unicast address: " + dnsServer);
            require(!guestSubnet.contains(dnsServer.value()), "dnsServer", dnsServer + " is inside guestSubnet "
                    + guestSubnet + ": the gateway does not proxy DNS; give a resolver's address on the host side");
        }
        require(guestMtu >= MIN_MTU && guestMtu <= MAX_MTU, "guestMtu",
                "must be " + MIN_MTU + ".." + MAX_MTU + ": " + guestMtu);
        forwards = forwards == null ? List.of() : List.copyOf(forwards);
        require(timeouts != null, "timeouts", "is required");
        timeouts.validate();
        require(connectionCapacity >= 64 && connectionCapacity <= MAX_CONNECTIONS, "connectionCapacity",
                "must be 64.." + MAX_CONNECTIONS + ": " + connectionCapacity);
        require(perGuestConnectionLimit >= 1 && perGuestConnectionLimit <= connectionCapacity,
                "perGuestConnectionLimit", "must be 1..connectionCapacity (" + connectionCapacity + "): "
                        + perGuestConnectionLimit);
        if (mode == NatMode.HOST_ONLY) {
            require(tapName == null, "tapName", "host-only mode has no host side: leave it unset");
            require(forwards.isEmpty(), "forwards", "port forwarding needs NAT mode");
        } else {
            validateHostSide(guestSubnet, gateway, gatewayMac, tapName, hostAddress, hostPrefixLength, nextHop,
                    hostMac, hostMtu, hostOffloads);
            validateForwards(guestSubnet, gateway, forwards);
        }
    }

    private static void validateHostSide(final Ipv4Prefix guestSubnet, final Ipv4Address gateway,
                                         final MacAddress gatewayMac, final String tapName,
                                         final Ipv4Address hostAddress, final int hostPrefixLength,
                                         final Ipv4Address nextHop, final MacAddress hostMac, final int hostMtu,
                                         final int hostOffloads) {
        require(tapName != null && !tapName.isEmpty() && tapName.length() < 16 && !tapName.contains("/")
                && !tapName.contains(" "), "tapName",
                "NAT mode needs an interface name of 1..15 characters: " + tapName);
        require(hostAddress != null, "hostAddress", "NAT mode needs the gateway's address on the TAP link");
        require(!Ipv4Address.isMartianSource(hostAddress.value()), "hostAddress", "is not a unicast address: "
                + hostAddress);
        require(hostPrefixLength >= 1 && hostPrefixLength <= 30, "hostPrefixLength",
                "must be 1..30: " + hostPrefixLength);
        final Ipv4Prefix hostNetwork = Ipv4Prefix.containing(hostAddress, hostPrefixLength);
        require(!hostNetwork.overlaps(guestSubnet), "hostAddress", "the host link " + hostNetwork
                + " overlaps guestSubnet " + guestSubnet);
        requireHostOf(hostNetwork, hostAddress, "hostAddress");
        require(nextHop != null, "nextHop", "NAT mode needs the router on the TAP link");
        requireHostOf(hostNetwork, nextHop, "nextHop");
        require(!nextHop.equals(hostAddress), "nextHop", "is the gateway's own hostAddress " + hostAddress);
        require(hostMac != null && !hostMac.isGroup() && hostMac.value() != 0, "hostMac",
                "must be a unicast address: " + hostMac);
        require(!hostMac.equals(gatewayMac), "hostMac", "must differ from gatewayMac " + gatewayMac);
        require(hostMtu >= MIN_MTU && hostMtu <= MAX_MTU, "hostMtu",
                "must be " + MIN_MTU + ".." + MAX_MTU + ": " + hostMtu);
        require((hostOffloads & ~TUN_FLAGS) == 0, "hostOffloads", "holds bits that are not TUN_F_* flags: 0x"
                + Integer.toHexString(hostOffloads));
        require(!gateway.equals(hostAddress), "hostAddress", "is the gateway's guest-side address");
    }

    private static void validateForwards(final Ipv4Prefix guestSubnet, final Ipv4Address gateway,
                                         final List<PortForward> forwards) {
        final Set<String> seen = new HashSet<>();
        for (PortForward forward : forwards) {
            require(forward != null, "forwards", "holds a null rule");
            require(seen.add(forward.protocol() + ":" + forward.hostPort()), "forwards",
                    "host port " + forward.protocol() + " " + forward.hostPort() + " is forwarded twice");
            requireHostOf(guestSubnet, forward.guestAddress(), "forwards (" + forward + ")");
            require(!forward.guestAddress().equals(gateway), "forwards",
                    forward + " points at the gateway itself");
        }
    }

    private static void requireHostOf(final Ipv4Prefix network, final Ipv4Address address, final String field) {
        require(network.contains(address.value()), field, address + " is not inside " + network);
        require(address.value() != network.network().value() && address.value() != network.broadcast(), field,
                address + " is the network or broadcast address of " + network);
    }

    private static void require(final boolean condition, final String field, final String message) {
        if (!condition) {
            throw new IllegalArgumentException("nat config: " + field + " " + message);
        }
    }

    /** @return the host side's network (NAT mode) */
    public Ipv4Prefix hostNetwork() {
        return Ipv4Prefix.containing(hostAddress, hostPrefixLength);
    }

    /** @return a builder with QEMU-like defaults, in host-only mode until a host side is given */
    public static Builder builder() {
        return new Builder();
    }

    /** Collects components with defaults; {@link #build()} validates. */
    public static final class Builder {
        private NatMode mode = NatMode.HOST_ONLY;
        private Ipv4Prefix guestSubnet = Ipv4Prefix.parse("10.0.2.0/24");
        private Ipv4Address gateway = Ipv4Address.parse("10.0.2.2");
        private MacAddress gatewayMac = MacAddress.parse("52:55:0a:00:02:02");
        private Ipv4Address firstGuestAddress = Ipv4Address.parse("10.0.2.15");
        private int leasePoolSize = 16;
        private long leaseTimeSeconds = 86_400;
        private Ipv4Address dnsServer;
        private boolean enforceLeasedSource = true;
        private int guestMtu = 1500;
        private String tapName;
        private Ipv4Address hostAddress;
        private int hostPrefixLength = 24;
        private Ipv4Address nextHop;
        private MacAddress hostMac = MacAddress.parse("52:56:00:00:00:01");
        private int hostMtu = 1500;
        private int hostOffloads;
        private final List<PortForward> forwards = new ArrayList<>();
        private NatTimeouts timeouts = NatTimeouts.defaults();
        private int connectionCapacity = 16_384;
        private int perGuestConnectionLimit = 4_096;

        private Builder() {
        }

        /** Host-only mode (the default). */
        public Builder hostOnly() {
            mode = NatMode.HOST_ONLY;
            tapName = null;
            return this;
        }

        /**
         * NAT mode onto the TAP {@code tap}, where the gateway is {@code address}/{@code prefixLength} and routes
         * through {@code router}.
         */
        public Builder nat(final String tap, final Ipv4Address address, final int prefixLength,
                           final Ipv4Address router) {
            mode = NatMode.NAT;
            tapName = tap;
            hostAddress = address;
            hostPrefixLength = prefixLength;
            nextHop = router;
            return this;
        }

        /** Sets {@link NatConfig#guestSubnet()}. */
        public Builder guestSubnet(final Ipv4Prefix value) {
            guestSubnet = value;
            return this;
        }

        /** Sets {@link NatConfig#gateway()}. */
        public Builder gateway(final Ipv4Address value) {
            gateway = value;
            return this;
        }

        /** Sets {@link NatConfig#gatewayMac()}. */
        public Builder gatewayMac(final MacAddress value) {
            gatewayMac = value;
            return this;
        }

        /** Sets {@link NatConfig#firstGuestAddress()}. */
        public Builder firstGuestAddress(final Ipv4Address value) {
            firstGuestAddress = value;
            return this;
        }

        /** Sets {@link NatConfig#leasePoolSize()}. */
        public Builder leasePoolSize(final int value) {
            leasePoolSize = value;
            return this;
        }

        /** Sets {@link NatConfig#leaseTimeSeconds()}. */
        public Builder leaseTimeSeconds(final long value) {
            leaseTimeSeconds = value;
            return this;
        }

        /** Sets {@link NatConfig#dnsServer()}. */
        public Builder dnsServer(final Ipv4Address value) {
            dnsServer = value;
            return this;
        }

        /** Sets {@link NatConfig#enforceLeasedSource()}. */
        public Builder enforceLeasedSource(final boolean value) {
            enforceLeasedSource = value;
            return this;
        }

        /** Sets {@link NatConfig#guestMtu()}. */
        public Builder guestMtu(final int value) {
            guestMtu = value;
            return this;
        }

        /** Sets {@link NatConfig#hostMac()}. */
        public Builder hostMac(final MacAddress value) {
            hostMac = value;
            return this;
        }

        /** Sets {@link NatConfig#hostMtu()}. */
        public Builder hostMtu(final int value) {
            hostMtu = value;
            return this;
        }

        /** Sets {@link NatConfig#hostOffloads()}. */
        public Builder hostOffloads(final int tunFlags) {
            hostOffloads = tunFlags;
            return this;
        }

        /** Adds a rule to {@link NatConfig#forwards()}. */
        public Builder forward(final PortForward rule) {
            forwards.add(rule);
            return this;
        }

        /** Sets {@link NatConfig#timeouts()}. */
        public Builder timeouts(final NatTimeouts value) {
            timeouts = value;
            return this;
        }

        /** Sets {@link NatConfig#connectionCapacity()}. */
        public Builder connectionCapacity(final int value) {
            connectionCapacity = value;
            return this;
        }

        /** Sets {@link NatConfig#perGuestConnectionLimit()}. */
        public Builder perGuestConnectionLimit(final int value) {
            perGuestConnectionLimit = value;
            return this;
        }

        /** @return the validated configuration */
        public NatConfig build() {
            return new NatConfig(mode, guestSubnet, gateway, gatewayMac, firstGuestAddress, leasePoolSize,
                    leaseTimeSeconds, dnsServer, enforceLeasedSource, guestMtu, tapName, hostAddress, hostPrefixLength,
                    nextHop, hostMac, hostMtu, hostOffloads, forwards, timeouts, connectionCapacity,
                    perGuestConnectionLimit);
        }
    }
}

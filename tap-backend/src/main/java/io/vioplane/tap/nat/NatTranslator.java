package io.vioplane.tap.nat;

import io.vioplane.platform.packet.IcmpHeader;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.TcpHeader;
import io.vioplane.virtionet.NetHeaderValues;

import java.util.List;

/**
 * Network address and port translation of checked packets (RFC 3022 section 2.2 NAPT): guest flows leave with
 * the gateway's host-side address and a mapped port ({@link PortMappings}); answers, and flows arriving at a
 * forwarded port, come back to the guest's address and port. Connections are tracked in a
 * {@link ConnectionTable}; fragments after the first follow their first fragment ({@link FragmentTable}); ICMP
 * errors are translated by {@link IcmpErrorTranslator}. Filtering is address- and port-dependent (RFC 4787
 * section 5): only the remote endpoint a flow went to may answer it.
 *
 * <p>Callers parse and check the packet first ({@link Ipv4Packet}); the translator decides, rewrites in place
 * and says why it refused. After a successful {@link #inbound}, {@link #guestMac()} is the guest to send to.
 */
public final class NatTranslator {
    private static final int NO_RULE = -1;
    private static final int GUEST_MAC_UNKNOWN = -5;
    private final ConnectionTable connections;
    private final FragmentTable fragments;
    private final IcmpErrorTranslator icmpErrors;
    private final GuestNeighbors neighbors;
    private final NatCounters counters;
    private final int hostAddress;
    private final int[] forwardTo = new int[2 * 65536];
    private final int[] forwardPort = new int[2 * 65536];
    private long guestMac;
    private int guestAddress;

    /**
     * @param hostAddress the gateway's host-side IPv4 address, the source of every translated flow
     * @param forwards the port forwards: flows arriving at a forwarded host port go to its guest endpoint
     */
    public NatTranslator(final Ipv4Address hostAddress, final List<PortForward> forwards,
                         final ConnectionTable connections, final FragmentTable fragments,
                         final GuestNeighbors neighbors, final NatCounters counters) {
        this.connections = connections;
        this.fragments = fragments;
        this.neighbors = neighbors;
        this.counters = counters;
        this.hostAddress = hostAddress.value();
        this.icmpErrors = new IcmpErrorTranslator(connections, this.hostAddress);
        for (PortForward forward : forwards) {
            final int slot = (forward.protocol() == PortForward.Protocol.TCP ? 0 : 65536) + forward.hostPort();
            forwardTo[slot] = forward.guestAddress().value();
            forwardPort[slot] = forward.guestPort();
        }
    }

    /** @return the MAC address of the guest the last inbound packet goes to */
    public long guestMac() {
        return guestMac;
    }

    /** @return the guest address the last inbound packet goes to (also when its MAC is unknown) */
    public int guestAddress() {
        return guestAddress;
    }

    /**
     * Translates a guest's packet for the host side: source address and port become the host address and the
     * flow's mapped port.
     *
     * @param sourceMac the guest's MAC address
     * @return null if translated, else why not
     */
    public NatDrop outbound(final Ipv4Packet packet, final NetHeaderValues header, final long sourceMac, final long nowNs) {
        if (packet.isLaterFragment()) {
            final int entry = fragment(packet, true, nowNs);
            if (entry < 0) {
                return NatDrop.FRAGMENT_UNTRACKED;
            }
            NatRewriter.rewriteSource(packet, hostAddress, 0, false);
            counters.count(NatEvent.FRAGMENTS_TRANSLATED);
            return null;
        }
        if (packet.protocol == IpProtocol.ICMP) {
            if (IcmpHeader.isError(packet.icmpType)) {
                final NatDrop refused = icmpErrors.outbound(packet, nowNs);
                if (refused == null) {
                    counters.count(NatEvent.ICMP_ERRORS_TRANSLATED);
                }
                return refused;
            }
            if (packet.icmpType != IcmpHeader.ECHO_REQUEST) {
                return NatDrop.ICMP_UNSUPPORTED;
            }
        }
        int entry = connections.findFromGuest(packet.protocol, packet.source, packet.sourcePort, packet.destination,
                packet.destinationPort, nowNs);
        if (entry < 0) {
            if (packet.protocol == IpProtocol.TCP && !isInitialSyn(packet.tcpFlags)) {
                return NatDrop.TCP_NO_CONNECTION;
            }
            entry = connections.openFromGuest(packet.protocol, packet.source, packet.sourcePort, packet.destination,
                    packet.destinationPort, sourceMac, packet.tcpFlags, nowNs);
            if (entry < 0) {
                return refusal(entry);
            }
        }
        connections.seen(entry, true, packet.tcpFlags, nowNs);
        connections.guestMac(entry, sourceMac);
        if (packet.isFragment()) {
            fragments.remember(FragmentTable.high(packet.source, packet.destination),
                    FragmentTable.low(true, packet.protocol, packet.identification), entry,
                    connections.generation(entry), nowNs);
        }
        NatRewriter.rewriteSource(packet, hostAddress, connections.hostPort(entry), header.needsChecksum());
        return null;
    }

    /**
     * Translates a packet arriving at the host address for the guest of its flow, opening a flow when it
     * arrives at a forwarded port.
     *
     * @return null if translated, else why not ({@link NatDrop#GUEST_UNRESOLVED} with {@link #guestAddress()} set)
     */
    public NatDrop inbound(final Ipv4Packet packet, final NetHeaderValues header, final long nowNs) {
        if (packet.isLaterFragment()) {
            final int entry = fragment(packet, false, nowNs);
            if (entry < 0) {
                return NatDrop.FRAGMENT_UNTRACKED;
            }
            guestAddress = connections.guestAddress(entry);
            guestMac = connections.guestMac(entry);
            NatRewriter.rewriteDestination(packet, guestAddress, 0, false);
            counters.count(NatEvent.FRAGMENTS_TRANSLATED);
            return null;
        }
        final int flowPort;
        if (packet.protocol == IpProtocol.ICMP) {
            if (IcmpHeader.isError(packet.icmpType)) {
                final NatDrop refused = icmpErrors.inbound(packet, nowNs);
                if (refused == null) {
                    guestMac = connections.guestMac(icmpErrors.entry());
                    guestAddress = connections.guestAddress(icmpErrors.entry());
                    counters.count(NatEvent.ICMP_ERRORS_TRANSLATED);
                }
                return refused;
            }
            if (packet.icmpType != IcmpHeader.ECHO_REPLY) {
                return NatDrop.ICMP_UNSUPPORTED;
            }
            flowPort = packet.sourcePort;
        } else {
            flowPort = packet.destinationPort;
        }
        final int remotePort = packet.protocol == IpProtocol.ICMP ? 0 : packet.sourcePort;
        int entry = connections.findFromHost(packet.protocol, flowPort, packet.source, remotePort, nowNs);
        if (entry < 0) {
            entry = openForwarded(packet, nowNs);
            if (entry < 0) {
                return entry == GUEST_MAC_UNKNOWN ? NatDrop.GUEST_UNRESOLVED : refusal(entry);
            }
        }
        connections.seen(entry, false, packet.tcpFlags, nowNs);
        if (packet.isFragment()) {
            fragments.remember(FragmentTable.high(packet.source, packet.destination),
                    FragmentTable.low(false, packet.protocol, packet.identification), entry,
                    connections.generation(entry), nowNs);
        }
        guestMac = connections.guestMac(entry);
        guestAddress = connections.guestAddress(entry);
        NatRewriter.rewriteDestination(packet, guestAddress, connections.guestPort(entry), header.needsChecksum());
        return null;
    }

    /**
     * @return the new entry, {@link #NO_RULE} without a rule (or for a TCP segment that is not a SYN),
     *     {@link #GUEST_MAC_UNKNOWN}, or a {@link ConnectionTable} refusal
     */
    private int openForwarded(final Ipv4Packet packet, final long nowNs) {
        if (packet.protocol != IpProtocol.TCP && packet.protocol != IpProtocol.UDP) {
            return NO_RULE;
        }
        final int slot = (packet.protocol == IpProtocol.TCP ? 0 : 65536) + packet.destinationPort;
        final int guest = forwardTo[slot];
        if (guest == 0 || packet.protocol == IpProtocol.TCP && !isInitialSyn(packet.tcpFlags)) {
            return NO_RULE;
        }
        guestAddress = guest;
        final long mac = neighbors.macOf(guest);
        if (mac == GuestNeighbors.UNKNOWN) {
            return GUEST_MAC_UNKNOWN;
        }
        return connections.openFromHost(packet.protocol, packet.destinationPort, packet.source, packet.sourcePort,
                guest, forwardPort[slot], mac, nowNs);
    }

    private int fragment(final Ipv4Packet packet, final boolean fromGuest, final long nowNs) {
        final long high = FragmentTable.high(packet.source, packet.destination);
        final long low = FragmentTable.low(fromGuest, packet.protocol, packet.identification);
        final int entry = fragments.find(high, low, nowNs);
        if (entry < 0 || fragments.foundGeneration() != connections.generation(entry)) {
            return -1;
        }
        return entry;
    }

    private static boolean isInitialSyn(final int tcpFlags) {
        return (tcpFlags & (TcpHeader.SYN | TcpHeader.ACK | TcpHeader.RST)) == TcpHeader.SYN;
    }

    private static NatDrop refusal(final int code) {
        return switch (code) {
            case ConnectionTable.REFUSED_GUEST_LIMIT -> NatDrop.GUEST_CONNECTION_LIMIT;
            case ConnectionTable.REFUSED_NO_PORT -> NatDrop.PORTS_EXHAUSTED;
            default -> NatDrop.NO_CONNECTION;
        };
    }
}

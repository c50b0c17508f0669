package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.GuestNeighbors;
import io.vioplane.tap.nat.Ipv4Packet;
import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.NatRewriter;
import io.vioplane.tap.nat.NatTranslator;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.IcmpHeader;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.Ipv4Prefix;
import io.vioplane.platform.packet.Wire;
import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.MemorySegment;

/**
 * What the gateway does with a frame a guest sent it through the bridge: ARP to {@link GatewayArp}; DHCP to
 * {@link DhcpServer}; ICMP echo to the gateway answered; everything else checked (RFC 1812 5.2.2 and 5.3.7:
 * header, source address, transport header, offloads, checksum, TTL) and, in NAT mode, translated and sent
 * to the host side; in host-only mode dropped. Each refusal is one {@link NatDrop} count. A guest's DATA_VALID
 * flag, which a driver must not set (VIRTIO 1.x 5.1.6.2.1), vouches for nothing: the checksum is verified anyway
 * and the flag is cleared before the frame reaches the host link.
 */
final class GuestSide {
    private final NatConfig config;
    private final Ipv4Prefix subnet;
    private final int gateway;
    private final long gatewayMac;
    private final int hostAddress;
    private final int hostFrameLimit;
    private final GuestSourcePolicy sources;
    private final GuestNeighbors neighbors;
    private final GatewayArp arp;
    private final DhcpServer dhcp;
    private final NatTranslator translator;
    private final HostSide host;
    private final ReplyQueue replies;
    private final NatCounters counters;
    private final Ipv4Packet packet = new Ipv4Packet();
    private final NetHeaderValues toHost = new NetHeaderValues();
    private int identification;

    GuestSide(final NatConfig config, final GuestSourcePolicy sources, final GuestNeighbors neighbors,
              final GatewayArp arp, final DhcpServer dhcp, final NatTranslator translator, final HostSide host,
              final ReplyQueue replies, final NatCounters counters) {
        this.config = config;
        this.subnet = config.guestSubnet();
        this.gateway = config.gateway().value();
        this.gatewayMac = config.gatewayMac().value();
        this.hostAddress = config.mode() == NatMode.NAT ? config.hostAddress().value() : 0;
        this.hostFrameLimit = config.hostMtu() + Ethernet.HEADER_BYTES;
        this.sources = sources;
        this.neighbors = neighbors;
        this.arp = arp;
        this.dhcp = dhcp;
        this.translator = translator;
        this.host = host;
        this.replies = replies;
        this.counters = counters;
    }

    /** @return true if a frame to {@code destinationMac} is the gateway's business (its MAC, or a group address) */
    boolean wants(final long destinationMac) {
        return destinationMac == gatewayMac || Wire.isGroupMac(destinationMac);
    }

    /** Handles the frame of {@code frameBytes} at offset 0 of {@code frame}. */
    void handle(final MemorySegment frame, final int frameBytes, final NetHeaderValues header, final long nowNs) {
        final long destinationMac = Wire.mac(frame, Ethernet.DESTINATION);
        final long sourceMac = Wire.mac(frame, Ethernet.SOURCE);
        switch (Wire.u16(frame, Ethernet.TYPE)) {
            case Ethernet.TYPE_ARP -> arp.handle(frame, 0, frameBytes, sourceMac);
            case Ethernet.TYPE_IPV4 -> ipv4(frame, frameBytes, header, destinationMac, sourceMac, nowNs);
            default -> counters.drop(NatDrop.UNSUPPORTED_ETHERTYPE);
        }
    }

    private void ipv4(final MemorySegment frame, final int frameBytes, final NetHeaderValues header,
                      final long destinationMac, final long sourceMac, final long nowNs) {
        final Ipv4Packet p = packet;
        NatDrop drop = p.parse(frame, 0, frameBytes);
        if (drop != null) {
            counters.drop(drop);
            return;
        }
        final int destination = p.destination;
        if (destination == -1 || destination == subnet.broadcast() || Ipv4Address.isMulticast(destination)
                || Wire.isGroupMac(destinationMac)) {
            if (!isDhcp(p)) {
                counters.drop(NatDrop.NOT_ROUTED_BROADCAST);
            } else if (!p.transportChecksumValid(header, false)) {
                counters.drop(NatDrop.L4_BAD_CHECKSUM);
            } else {
                dhcp.handle(p, sourceMac, nowNs);
            }
            return;
        }
        if (destination == gateway) {
            toGateway(p, header, sourceMac, nowNs);
            return;
        }
        drop = sources.check(p.source, sourceMac);
        if (drop != null) {
            counters.drop(drop);
            return;
        }
        neighbors.learn(p.source, sourceMac);
        if (config.mode() == NatMode.HOST_ONLY) {
            counters.drop(NatDrop.HOST_ONLY);
            return;
        }
        if (subnet.contains(destination)) {
            counters.drop(NatDrop.NOT_ROUTED_GUEST_SUBNET);
            return;
        }
        if (Ipv4Address.isMartianDestination(destination)) {
            counters.drop(NatDrop.MARTIAN_DESTINATION);
            return;
        }
        if (destination == hostAddress) {
            counters.drop(NatDrop.TO_HOST_ADDRESS);
            return;
        }
        drop = checkTransport(p, header, frameBytes);
        if (drop != null) {
            counters.drop(drop);
            return;
        }
        if (p.ttl <= 1) {
            counters.drop(NatDrop.TTL_EXPIRED);
            timeExceeded(p, sourceMac);
            return;
        }
        if (!header.isGso() && p.frameBytes() > hostFrameLimit) {
            counters.drop(NatDrop.HOST_TOO_BIG);
            return;
        }
        drop = translator.outbound(p, header, sourceMac, nowNs);
        if (drop != null) {
            counters.drop(drop);
            return;
        }
        NatRewriter.decrementTtl(p);
        toHost.copyFrom(header);
        if (!toHost.needsChecksum()) {
            toHost.checksumComplete(false);
        }
        host.send(frame, 0, p.frameBytes(), toHost, destination, nowNs);
    }

    private static NatDrop checkTransport(final Ipv4Packet p, final NetHeaderValues header, final int frameBytes) {
        NatDrop drop = p.parseTransport();
        if (drop == null) {
            drop = p.checkOffload(header, frameBytes);
        }
        if (drop == null && !p.transportChecksumValid(header, false)) {
            drop = NatDrop.L4_BAD_CHECKSUM;
        }
        return drop;
    }

    private static boolean isDhcp(final Ipv4Packet p) {
        return p.protocol == IpProtocol.UDP && !p.isFragment() && p.parseTransport() == null
                && p.destinationPort == DhcpMessage.SERVER_PORT;
    }

    private void toGateway(final Ipv4Packet p, final NetHeaderValues header, final long sourceMac, final long nowNs) {
        if (p.isFragment()) {
            counters.drop(NatDrop.FRAGMENT_TO_GATEWAY);
            return;
        }
        if (p.protocol == IpProtocol.UDP && p.parseTransport() == null
                && p.destinationPort == DhcpMessage.SERVER_PORT) {
            if (!p.transportChecksumValid(header, false)) {
                counters.drop(NatDrop.L4_BAD_CHECKSUM);
                return;
            }
            dhcp.handle(p, sourceMac, nowNs);
            return;
        }
        NatDrop drop = sources.check(p.source, sourceMac);
        if (drop == null) {
            drop = checkTransport(p, header, p.frameBytes());
        }
        if (drop != null) {
            counters.drop(drop);
            return;
        }
        if (p.protocol != IpProtocol.ICMP || p.icmpType != IcmpHeader.ECHO_REQUEST || header.needsChecksum()) {
            counters.drop(NatDrop.TO_GATEWAY_UNSERVED);
            return;
        }
        neighbors.learn(p.source, sourceMac);
        if (replies.reserve(p.frameBytes())) {
            final int length = IcmpResponder.echoReply(p, replies.memory(), replies.offset(), sourceMac, gatewayMac);
            replies.commit(length);
            counters.count(NatEvent.ICMP_ECHO_REPLIES);
        }
    }

    private void timeExceeded(final Ipv4Packet p, final long sourceMac) {
        if (!IcmpResponder.mayReportOn(p) || !replies.reserve(IcmpResponder.timeExceededBytes(p))) {
            return;
        }
        final int length = IcmpResponder.timeExceeded(p, replies.memory(), replies.offset(), sourceMac, gatewayMac,
                gateway, identification++ & 0xFFFF);
        replies.commit(length);
        counters.count(NatEvent.ICMP_ERRORS_SENT);
    }
}

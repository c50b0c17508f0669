package io.vioplane.tap.gateway;

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
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The gateway's host side ({@link NatMode#NAT}): sends translated guest packets on the {@link HostLink} to their
 * next hop (the destination itself inside the host link's network, else the configured router), resolving it
 * with ARP (RFC 826, {@link HostNeighbors}) and holding a few frames meanwhile ({@link PendingFrames}); reads
 * frames from the link a burst at a time: ARP for the host address answered and answers learned; ICMP echo to
 * the host address answered; packets to the host address checked, translated back ({@link NatTranslator}) and
 * sent into the guests' bridge.
 */
final class HostSide implements AutoCloseable {
    /** Frames read from the link per poll. */
    static final int BURST = 32;

    private final HostLink link;
    private final Bridge bridge;
    private final int bridgePort;
    private final NatTranslator translator;
    private final GatewayArp guestArp;
    private final NatCounters counters;
    private final HostNeighbors neighbors;
    private final PendingFrames pending;
    private final Ipv4Prefix hostNetwork;
    private final int hostAddress;
    private final long hostMac;
    private final int nextHop;
    private final long gatewayMac;
    private final long arpGiveUpNs;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;
    private final MemorySegment arpFrame;
    private final NetHeaderValues header = new NetHeaderValues();
    private final NetHeaderValues plain = new NetHeaderValues();
    private final BufferTxFrame toBridge = new BufferTxFrame();
    private final Ipv4Packet packet = new Ipv4Packet();
    private final PendingFrames.Sender releaser = this::write;

    HostSide(final NatConfig config, final HostLink link, final Bridge bridge, final int bridgePort,
             final NatTranslator translator, final GatewayArp guestArp, final NatCounters counters,
             final int maxFrameBytes) {
        this.link = link;
        this.bridge = bridge;
        this.bridgePort = bridgePort;
        this.translator = translator;
        this.guestArp = guestArp;
        this.counters = counters;
        this.neighbors = new HostNeighbors(16, config.nextHop().value(), config.timeouts());
        this.pending = new PendingFrames(8, maxFrameBytes);
        this.hostNetwork = config.hostNetwork();
        this.hostAddress = config.hostAddress().value();
        this.hostMac = config.hostMac().value();
        this.nextHop = config.nextHop().value();
        this.gatewayMac = config.gatewayMac().value();
        this.arpGiveUpNs = config.timeouts().arpGiveUpNs();
        this.buffer = arena.allocate(HostLink.HEADROOM_BYTES + (long) maxFrameBytes, 64);
        this.arpFrame = arena.allocate(Ethernet.MIN_FRAME_BYTES, 8);
    }

    /** @return the link */
    HostLink link() {
        return link;
    }

    /**
     * Sends a translated packet (its Ethernet header still the guest's) toward {@code destination}.
     */
    void send(final MemorySegment frame, final long offset, final int lengthBytes, final NetHeaderValues offloads,
              final int destination, final long nowNs) {
        final int hop = hostNetwork.contains(destination) ? destination : nextHop;
        final long mac = neighbors.resolve(hop, nowNs);
        if (neighbors.requestDue()) {
            arpRequest(hop);
        }
        Wire.mac(frame, offset + Ethernet.SOURCE, hostMac);
        if (mac == HostNeighbors.UNKNOWN) {
            if (pending.hold(frame, offset, lengthBytes, offloads, hop, nowNs)) {
                counters.count(NatEvent.FRAMES_HELD_FOR_ARP);
            } else {
                counters.drop(NatDrop.NEXT_HOP_UNRESOLVED);
            }
            return;
        }
        Wire.mac(frame, offset + Ethernet.DESTINATION, mac);
        write(frame, offset, lengthBytes, offloads);
    }

    private void write(final MemorySegment frame, final long offset, final int lengthBytes,
                       final NetHeaderValues offloads) {
        if (link.send(offloads, frame, offset, lengthBytes)) {
            counters.count(NatEvent.GUEST_TO_HOST_PACKETS);
            counters.add(NatEvent.GUEST_TO_HOST_BYTES, lengthBytes);
        } else {
            counters.drop(NatDrop.HOST_LINK_REFUSED);
        }
    }

    private void arpRequest(final int target) {
        FrameBuilder.ethernet(arpFrame, 0, Wire.BROADCAST_MAC, hostMac, Ethernet.TYPE_ARP);
        FrameBuilder.arp(arpFrame, 0, ArpPacket.REQUEST, hostMac, hostAddress, 0, target);
        if (link.send(plain.clear(), arpFrame, 0, FrameBuilder.arpFrameBytes())) {
            counters.count(NatEvent.HOST_ARP_REQUESTS);
        }
    }

    /**
     * Reads and handles up to {@link #BURST} frames, and drops held frames whose next hop never answered.
     *
     * @return frames read
     */
    int poll(final long nowNs) {
        int frames = 0;
        while (frames < BURST) {
            final int length = link.receive(buffer, HostLink.HEADROOM_BYTES,
                    (int) buffer.byteSize() - HostLink.HEADROOM_BYTES, header);
            if (length <= 0) {
                break;
            }
            handle(length, nowNs);
            frames++;
        }
        if (pending.size() > 0) {
            final int dropped = pending.expire(nowNs, arpGiveUpNs);
            for (int i = 0; i < dropped; i++) {
                counters.drop(NatDrop.NEXT_HOP_UNRESOLVED);
            }
        }
        return frames;
    }

    /** Handles a frame of {@code frameBytes} at {@link HostLink#HEADROOM_BYTES} in the receive buffer. */
    void handle(final int frameBytes, final long nowNs) {
        final long at = HostLink.HEADROOM_BYTES;
        if (frameBytes < Ethernet.HEADER_BYTES) {
            counters.drop(NatDrop.FRAME_TOO_SHORT);
            return;
        }
        final long destinationMac = Wire.mac(buffer, at + Ethernet.DESTINATION);
        if (destinationMac != hostMac && destinationMac != Wire.BROADCAST_MAC) {
            counters.drop(NatDrop.NOT_FOR_GATEWAY_MAC);
            return;
        }
        switch (Wire.u16(buffer, at + Ethernet.TYPE)) {
            case Ethernet.TYPE_ARP -> arp(at, frameBytes, nowNs);
            case Ethernet.TYPE_IPV4 -> {
                if (destinationMac == Wire.BROADCAST_MAC) {
                    counters.drop(NatDrop.NOT_FOR_HOST_ADDRESS);
                } else {
                    ipv4(at, frameBytes, nowNs);
                }
            }
            default -> counters.drop(NatDrop.UNSUPPORTED_ETHERTYPE);
        }
    }

    /** @return the receive buffer (tests place frames at {@link HostLink#HEADROOM_BYTES}) */
    MemorySegment buffer() {
        return buffer;
    }

    private void arp(final long at, final int frameBytes, final long nowNs) {
        if (frameBytes < Ethernet.HEADER_BYTES + ArpPacket.BYTES) {
            counters.drop(NatDrop.FRAME_TOO_SHORT);
            return;
        }
        final long arp = at + Ethernet.HEADER_BYTES;
        final int operation = Wire.u16(buffer, arp + ArpPacket.OPERATION);
        if (Wire.u16(buffer, arp + ArpPacket.HARDWARE_TYPE) != 1
                || Wire.u16(buffer, arp + ArpPacket.PROTOCOL_TYPE) != Ethernet.TYPE_IPV4
                || Wire.u8(buffer, arp + ArpPacket.HARDWARE_LENGTH) != 6
                || Wire.u8(buffer, arp + ArpPacket.PROTOCOL_LENGTH) != 4
                || operation != ArpPacket.REQUEST && operation != ArpPacket.REPLY) {
            counters.drop(NatDrop.ARP_MALFORMED);
            return;
        }
        final long senderMac = Wire.mac(buffer, arp + ArpPacket.SENDER_MAC);
        final int senderAddress = Wire.u32(buffer, arp + ArpPacket.SENDER_IP);
        final int targetAddress = Wire.u32(buffer, arp + ArpPacket.TARGET_IP);
        if (Wire.isGroupMac(senderMac) || senderMac == 0) {
            counters.drop(NatDrop.ARP_SPOOFED);
            return;
        }
        boolean resolved = false;
        if (hostNetwork.contains(senderAddress) && senderAddress != hostAddress
                && neighbors.learn(senderAddress, senderMac, nowNs)) {
            counters.count(NatEvent.HOST_ARP_RESOLVED);
            pending.release(senderAddress, senderMac, releaser);
            resolved = true;
        }
        if (operation == ArpPacket.REQUEST && targetAddress == hostAddress) {
            FrameBuilder.ethernet(arpFrame, 0, senderMac, hostMac, Ethernet.TYPE_ARP);
            FrameBuilder.arp(arpFrame, 0, ArpPacket.REPLY, hostMac, hostAddress, senderMac, senderAddress);
            if (link.send(plain.clear(), arpFrame, 0, FrameBuilder.arpFrameBytes())) {
                counters.count(NatEvent.HOST_ARP_REPLIES);
            } else {
                counters.drop(NatDrop.HOST_LINK_REFUSED);
            }
        } else if (!resolved) {
            counters.count(NatEvent.HOST_ARP_OTHER);
        }
    }

    private void ipv4(final long at, final int frameBytes, final long nowNs) {
        final Ipv4Packet p = packet;
        NatDrop drop = p.parse(buffer, at, frameBytes);
        if (drop == null && p.destination != hostAddress) {
            drop = NatDrop.NOT_FOR_HOST_ADDRESS;
        }
        if (drop == null && Ipv4Address.isMartianSource(p.source)) {
            drop = NatDrop.MARTIAN_SOURCE;
        }
        if (drop == null) {
            drop = p.parseTransport();
        }
        if (drop == null) {
            drop = p.checkOffload(header, frameBytes);
        }
        if (drop == null && !p.transportChecksumValid(header, true)) {
            drop = NatDrop.L4_BAD_CHECKSUM;
        }
        if (drop != null) {
            counters.drop(drop);
            return;
        }
        if (p.protocol == IpProtocol.ICMP && p.hasTransport && p.icmpType == IcmpHeader.ECHO_REQUEST) {
            echo(p, at);
            return;
        }
        if (p.ttl <= 1) {
            counters.drop(NatDrop.TTL_EXPIRED);
            return;
        }
        drop = translator.inbound(p, header, nowNs);
        if (drop != null) {
            counters.drop(drop);
            if (drop == NatDrop.GUEST_UNRESOLVED) {
                guestArp.request(translator.guestAddress());
            }
            return;
        }
        NatRewriter.decrementTtl(p);
        FrameBuilder.ethernet(buffer, at, translator.guestMac(), gatewayMac, Ethernet.TYPE_IPV4);
        final int length = p.frameBytes();
        toBridge.wrap(buffer, at, length).headerHolder().copyFrom(header);
        bridge.forward(bridgePort, toBridge);
        counters.count(NatEvent.HOST_TO_GUEST_PACKETS);
        counters.add(NatEvent.HOST_TO_GUEST_BYTES, length);
    }

    private void echo(final Ipv4Packet p, final long at) {
        if (p.isFragment() || header.needsChecksum()) {
            counters.drop(p.isFragment() ? NatDrop.FRAGMENT_TO_GATEWAY : NatDrop.BAD_OFFLOAD);
            return;
        }
        final long senderMac = Wire.mac(buffer, at + Ethernet.SOURCE);
        final int length = IcmpResponder.echoReply(p, buffer, at, senderMac, hostMac);
        if (link.send(plain.clear(), buffer, at, length)) {
            counters.count(NatEvent.ICMP_ECHO_REPLIES);
        } else {
            counters.drop(NatDrop.HOST_LINK_REFUSED);
        }
    }

    @Override
    public void close() {
        pending.close();
        arena.close();
    }
}

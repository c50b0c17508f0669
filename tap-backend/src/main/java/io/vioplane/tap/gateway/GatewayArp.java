package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.GuestNeighbors;
import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.Wire;

import java.lang.foreign.MemorySegment;

/**
 * ARP on the guest side (RFC 826): answers requests (and RFC 5227 probes) for the gateway's address with the
 * gateway's virtual MAC, learns guests' addresses from their ARP, and asks for a guest's MAC when a forwarded
 * packet needs it. ARP between guests reaches the gateway by flooding and is left alone. A sender address the
 * guest may not use (the gateway's, one outside the subnet, or with leased-source enforcement one not leased
 * to that MAC) or a sender MAC differing from the frame's source is dropped and counted, and never learned.
 */
final class GatewayArp {
    private final int gateway;
    private final long gatewayMac;
    private final GuestSourcePolicy sources;
    private final GuestNeighbors neighbors;
    private final ReplyQueue replies;
    private final NatCounters counters;

    GatewayArp(final NatConfig config, final GuestSourcePolicy sources, final GuestNeighbors neighbors,
               final ReplyQueue replies, final NatCounters counters) {
        this.gateway = config.gateway().value();
        this.gatewayMac = config.gatewayMac().value();
        this.sources = sources;
        this.neighbors = neighbors;
        this.replies = replies;
        this.counters = counters;
    }

    /** Handles an ARP frame of {@code frameBytes} at {@code at} from the guest at {@code sourceMac}. */
    void handle(final MemorySegment frame, final long at, final int frameBytes, final long sourceMac) {
        if (frameBytes < Ethernet.HEADER_BYTES + ArpPacket.BYTES) {
            counters.drop(NatDrop.FRAME_TOO_SHORT);
            return;
        }
        final long arp = at + Ethernet.HEADER_BYTES;
        final int operation = Wire.u16(frame, arp + ArpPacket.OPERATION);
        if (Wire.u16(frame, arp + ArpPacket.HARDWARE_TYPE) != 1
                || Wire.u16(frame, arp + ArpPacket.PROTOCOL_TYPE) != Ethernet.TYPE_IPV4
                || Wire.u8(frame, arp + ArpPacket.HARDWARE_LENGTH) != 6
                || Wire.u8(frame, arp + ArpPacket.PROTOCOL_LENGTH) != 4
                || operation != ArpPacket.REQUEST && operation != ArpPacket.REPLY) {
            counters.drop(NatDrop.ARP_MALFORMED);
            return;
        }
        final long senderMac = Wire.mac(frame, arp + ArpPacket.SENDER_MAC);
        final int senderAddress = Wire.u32(frame, arp + ArpPacket.SENDER_IP);
        final int targetAddress = Wire.u32(frame, arp + ArpPacket.TARGET_IP);
        if (senderMac != sourceMac || senderAddress != 0 && sources.check(senderAddress, senderMac) != null) {
            counters.drop(NatDrop.ARP_SPOOFED);
            return;
        }
        if (senderAddress != 0) {
            neighbors.learn(senderAddress, senderMac);
        }
        if (operation != ArpPacket.REQUEST || targetAddress != gateway) {
            counters.count(NatEvent.GUEST_ARP_OTHER);
            return;
        }
        if (!replies.reserve(FrameBuilder.arpFrameBytes())) {
            return;
        }
        final MemorySegment out = replies.memory();
        final long reply = replies.offset();
        FrameBuilder.ethernet(out, reply, senderMac, gatewayMac, Ethernet.TYPE_ARP);
        FrameBuilder.arp(out, reply, ArpPacket.REPLY, gatewayMac, gateway, senderMac, senderAddress);
        replies.commit(FrameBuilder.arpFrameBytes());
        counters.count(NatEvent.GUEST_ARP_REPLIES);
    }

    /** Broadcasts a request for {@code address}'s MAC to the guests. */
    void request(final int address) {
        if (!replies.reserve(FrameBuilder.arpFrameBytes())) {
            return;
        }
        final MemorySegment out = replies.memory();
        final long at = replies.offset();
        FrameBuilder.ethernet(out, at, Wire.BROADCAST_MAC, gatewayMac, Ethernet.TYPE_ARP);
        FrameBuilder.arp(out, at, ArpPacket.REQUEST, gatewayMac, gateway, 0, address);
        replies.commit(FrameBuilder.arpFrameBytes());
        counters.count(NatEvent.GUEST_ARP_REQUESTS);
    }
}

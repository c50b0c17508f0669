package io.vioplane.tap.gateway;

import io.vioplane.platform.packet.Checksums;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.Ipv4Header;
import io.vioplane.platform.packet.UdpHeader;
import io.vioplane.platform.packet.Wire;

import java.lang.foreign.MemorySegment;

/**
 * Writes the headers of frames the gateway makes itself (ARP, DHCP, ICMP replies and errors): Ethernet II, an
 * IPv4 header of 20 bytes with its checksum (RFC 791), a UDP header (RFC 768).
 */
final class FrameBuilder {
    private FrameBuilder() {
    }

    static void ethernet(final MemorySegment frame, final long at, final long destination, final long source,
                         final int type) {
        Wire.mac(frame, at + Ethernet.DESTINATION, destination);
        Wire.mac(frame, at + Ethernet.SOURCE, source);
        Wire.u16(frame, at + Ethernet.TYPE, type);
    }

    /** Writes a 20-byte IPv4 header at {@code ip} with its checksum. */
    static void ipv4(final MemorySegment frame, final long ip, final int totalBytes, final int identification,
                     final int protocol, final int source, final int destination) {
        Wire.u8(frame, ip + Ipv4Header.VERSION_IHL, 0x45);
        Wire.u8(frame, ip + 1, 0);
        Wire.u16(frame, ip + Ipv4Header.TOTAL_LENGTH, totalBytes);
        Wire.u16(frame, ip + Ipv4Header.IDENTIFICATION, identification);
        Wire.u16(frame, ip + Ipv4Header.FLAGS_FRAGMENT, 0);
        Wire.u8(frame, ip + Ipv4Header.TTL, Ipv4Header.DEFAULT_TTL);
        Wire.u8(frame, ip + Ipv4Header.PROTOCOL, protocol);
        Wire.u32(frame, ip + Ipv4Header.SOURCE, source);
        Wire.u32(frame, ip + Ipv4Header.DESTINATION, destination);
        Checksums.fillIpv4Header(frame, ip, Ipv4Header.MIN_BYTES);
    }

    /** Writes a UDP header (checksum zero: fill it once the payload is in place). */
    static void udp(final MemorySegment frame, final long l4, final int sourcePort, final int destinationPort,
                    final int lengthBytes) {
        Wire.u16(frame, l4 + UdpHeader.SOURCE_PORT, sourcePort);
        Wire.u16(frame, l4 + UdpHeader.DESTINATION_PORT, destinationPort);
        Wire.u16(frame, l4 + UdpHeader.LENGTH, lengthBytes);
        Wire.u16(frame, l4 + UdpHeader.CHECKSUM, 0);
    }

    /** Writes an ARP packet for IPv4 over Ethernet after the Ethernet header at {@code at}. */
    static void arp(final MemorySegment frame, final long at, final int operation, final long senderMac,
                    final int senderAddress, final long targetMac, final int targetAddress) {
        final long arp = at + Ethernet.HEADER_BYTES;
        Wire.u16(frame, arp + ArpPacket.HARDWARE_TYPE, 1);
        Wire.u16(frame, arp + ArpPacket.PROTOCOL_TYPE, Ethernet.TYPE_IPV4);
        Wire.u8(frame, arp + ArpPacket.HARDWARE_LENGTH, 6);
        Wire.u8(frame, arp + ArpPacket.PROTOCOL_LENGTH, 4);
        Wire.u16(frame, arp + ArpPacket.OPERATION, operation);
        Wire.mac(frame, arp + ArpPacket.SENDER_MAC, senderMac);
        Wire.u32(frame, arp + ArpPacket.SENDER_IP, senderAddress);
        Wire.mac(frame, arp + ArpPacket.TARGET_MAC, targetMac);
        Wire.u32(frame, arp + ArpPacket.TARGET_IP, targetAddress);
        zero(frame, arp + ArpPacket.BYTES, Ethernet.MIN_FRAME_BYTES - Ethernet.HEADER_BYTES - ArpPacket.BYTES);
    }

    /** Zeroes {@code length} bytes at {@code at} (padding, reserved fields). */
    static void zero(final MemorySegment frame, final long at, final int length) {
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            frame.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, at + i, 0L);
        }
        for (; i < length; i++) {
            Wire.u8(frame, at + i, 0);
        }
    }

    /** @return the length of an ARP frame, padded to the Ethernet minimum */
    static int arpFrameBytes() {
        return Ethernet.MIN_FRAME_BYTES;
    }
}

package io.vioplane.tap.nat;

import io.vioplane.platform.packet.Checksums;
import io.vioplane.platform.packet.IcmpHeader;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Header;
import io.vioplane.platform.packet.TcpHeader;
import io.vioplane.platform.packet.UdpHeader;
import io.vioplane.platform.packet.Wire;

import java.lang.foreign.MemorySegment;

/**
 * Rewrites addresses, ports and TTLs in place with incremental checksum updates (RFC 1624; RFC 3022 section
 * 4.2 for what NAPT changes): the IPv4 header checksum always; the TCP or UDP checksum for the address (it is
 * in the pseudo-header) and the port; the ICMP checksum for an echo identifier. A UDP checksum of zero means
 * none and stays zero (RFC 768). A partial checksum left to the device (NEEDS_CSUM) is updated for addresses
 * only ({@link Checksums}). Later fragments, which carry no transport header, get the address change only.
 */
public final class NatRewriter {
    private NatRewriter() {
    }

    /** Replaces the source address, and the source port (TCP, UDP) or echo identifier (ICMP) when present. */
    static void rewriteSource(final Ipv4Packet packet, final int address, final int port, final boolean partial) {
        rewrite(packet, Ipv4Header.SOURCE, packet.source, address, sourcePortField(packet), packet.sourcePort, port,
                partial);
        packet.source = address;
        if (packet.hasTransport) {
            packet.sourcePort = port;
        }
    }

    /** Replaces the destination address, and the destination port or (ICMP) echo identifier when present. */
    static void rewriteDestination(final Ipv4Packet packet, final int address, final int port, final boolean partial) {
        final int portField = packet.protocol == IpProtocol.ICMP ? IcmpHeader.IDENTIFIER : TcpHeader.DESTINATION_PORT;
        final int oldPort = packet.protocol == IpProtocol.ICMP ? packet.sourcePort : packet.destinationPort;
        rewrite(packet, Ipv4Header.DESTINATION, packet.destination, address, portField, oldPort, port, partial);
        packet.destination = address;
        if (packet.hasTransport) {
            if (packet.protocol == IpProtocol.ICMP) {
                packet.sourcePort = port;
            } else {
                packet.destinationPort = port;
            }
        }
    }

    private static int sourcePortField(final Ipv4Packet packet) {
        return packet.protocol == IpProtocol.ICMP ? IcmpHeader.IDENTIFIER : TcpHeader.SOURCE_PORT;
    }

    private static void rewrite(final Ipv4Packet packet, final int addressField, final int oldAddress,
                                final int newAddress, final int portField, final int oldPort, final int newPort,
                                final boolean partial) {
        final MemorySegment frame = packet.frame;
        final long ip = packet.ip;
        Wire.u32(frame, ip + addressField, newAddress);
        Wire.u16(frame, ip + Ipv4Header.CHECKSUM,
                Checksums.update32(Wire.u16(frame, ip + Ipv4Header.CHECKSUM), oldAddress, newAddress));
        if (!packet.hasTransport) {
            return;
        }
        final long l4 = packet.l4;
        switch (packet.protocol) {
            case IpProtocol.TCP -> {
                final long field = l4 + TcpHeader.CHECKSUM;
                int checksum = Wire.u16(frame, field);
                checksum = partial ? Checksums.updatePartial32(checksum, oldAddress, newAddress)
                        : Checksums.update16(Checksums.update32(checksum, oldAddress, newAddress), oldPort, newPort);
                Wire.u16(frame, field, checksum);
                Wire.u16(frame, l4 + portField, newPort);
            }
            case IpProtocol.UDP -> {
                final long field = l4 + UdpHeader.CHECKSUM;
                final int checksum = Wire.u16(frame, field);
                if (partial) {
                    Wire.u16(frame, field, Checksums.updatePartial32(checksum, oldAddress, newAddress));
                } else if (checksum != 0) {
                    final int updated = Checksums.update16(Checksums.update32(checksum, oldAddress, newAddress),
                            oldPort, newPort);
                    Wire.u16(frame, field, Checksums.udpOnWire(updated));
                }
                Wire.u16(frame, l4 + portField, newPort);
            }
            default -> {
                if (!partial) {
                    final long field = l4 + IcmpHeader.CHECKSUM;
                    Wire.u16(frame, field, Checksums.update16(Wire.u16(frame, field), oldPort, newPort));
                }
                Wire.u16(frame, l4 + portField, newPort);
            }
        }
    }

    /** Decrements the TTL (RFC 1812 5.3.1) and updates the header checksum for it. */
    public static void decrementTtl(final Ipv4Packet packet) {
        final MemorySegment frame = packet.frame;
        final long ip = packet.ip;
        final int oldWord = Wire.u16(frame, ip + Ipv4Header.TTL);
        final int newWord = oldWord - 0x100;
        Wire.u16(frame, ip + Ipv4Header.TTL, newWord);
        Wire.u16(frame, ip + Ipv4Header.CHECKSUM,
                Checksums.update16(Wire.u16(frame, ip + Ipv4Header.CHECKSUM), oldWord, newWord));
        packet.ttl--;
    }
}

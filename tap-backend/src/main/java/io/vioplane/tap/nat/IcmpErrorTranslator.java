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
 * Translates ICMP error messages (destination unreachable, source quench, time exceeded, parameter problem)
 * that concern a NATed flow (RFC 5508 section 4.2; RFC 3022 section 4.3): the error's outer header is
 * translated like any packet of the flow, and so is the quoted datagram inside it, in the opposite direction:
 * its header checksum incrementally, its transport checksum incrementally when the quote holds it (a TCP
 * checksum lies beyond the 8 bytes every error carries, RFC 792), and then the ICMP checksum is computed over
 * the translated message. The connection's timers are not refreshed by errors.
 */
public final class IcmpErrorTranslator {
    private final ConnectionTable connections;
    private final int hostAddress;
    /** The connection the last translated error belonged to. */
    private int entry;
    /** The quoted datagram of the error being translated, as {@link #readQuoted} found it. */
    private long inner;
    private long innerL4;
    private int innerSource;
    private int innerDestination;
    private int innerProtocol;
    private int quotedBytes;

    IcmpErrorTranslator(final ConnectionTable connections, final int hostAddress) {
        this.connections = connections;
        this.hostAddress = hostAddress;
    }

    /** @return the connection the last translated error concerned */
    int entry() {
        return entry;
    }

    /**
     * Translates an error arriving from the host side toward the guest whose flow it quotes: the quoted
     * datagram left the NAT from the host address and goes back to the guest's address and port.
     *
     * @return null if translated, else why not
     */
    NatDrop inbound(final Ipv4Packet packet, final long nowNs) {
        if (!readQuoted(packet)) {
            return NatDrop.ICMP_ERROR_MALFORMED;
        }
        final MemorySegment frame = packet.frame;
        if (innerSource != hostAddress || packet.destination != hostAddress) {
            return NatDrop.ICMP_ERROR_UNMATCHED;
        }
        final int found = switch (innerProtocol) {
            case IpProtocol.TCP, IpProtocol.UDP -> connections.findFromHost(innerProtocol,
                    Wire.u16(frame, innerL4 + TcpHeader.SOURCE_PORT), innerDestination,
                    Wire.u16(frame, innerL4 + TcpHeader.DESTINATION_PORT), nowNs);
            case IpProtocol.ICMP -> Wire.u8(frame, innerL4 + IcmpHeader.TYPE) == IcmpHeader.ECHO_REQUEST
                    ? connections.findFromHost(IpProtocol.ICMP, Wire.u16(frame, innerL4 + IcmpHeader.IDENTIFIER),
                    innerDestination, 0, nowNs) : -1;
            default -> -1;
        };
        if (found < 0) {
            return NatDrop.ICMP_ERROR_UNMATCHED;
        }
        entry = found;
        final int guest = connections.guestAddress(found);
        rewriteQuoted(frame, inner, innerL4, quotedBytes, innerProtocol, Ipv4Header.SOURCE, innerSource, guest,
                sourcePortField(innerProtocol), connections.guestPort(found));
        rewriteOuter(packet, Ipv4Header.DESTINATION, guest);
        packet.destination = guest;
        return null;
    }

    /**
     * Translates an error a guest sends about a packet it received through the NAT (a forwarded or answered
     * flow): the quoted datagram goes back to showing the host address and port it arrived on.
     *
     * @return null if translated, else why not
     */
    NatDrop outbound(final Ipv4Packet packet, final long nowNs) {
        if (!readQuoted(packet)) {
            return NatDrop.ICMP_ERROR_MALFORMED;
        }
        final MemorySegment frame = packet.frame;
        if (innerDestination != packet.source
                || innerProtocol != IpProtocol.TCP && innerProtocol != IpProtocol.UDP) {
            return NatDrop.ICMP_ERROR_UNMATCHED;
        }
        final int found = connections.findFromGuest(innerProtocol, innerDestination,
                Wire.u16(frame, innerL4 + TcpHeader.DESTINATION_PORT), innerSource,
                Wire.u16(frame, innerL4 + TcpHeader.SOURCE_PORT), nowNs);
        if (found < 0) {
            return NatDrop.ICMP_ERROR_UNMATCHED;
        }
        entry = found;
        rewriteQuoted(frame, inner, innerL4, quotedBytes, innerProtocol, Ipv4Header.DESTINATION, innerDestination,
                hostAddress, TcpHeader.DESTINATION_PORT, connections.hostPort(found));
        rewriteOuter(packet, Ipv4Header.SOURCE, hostAddress);
        packet.source = hostAddress;
        return null;
    }

    private static int sourcePortField(final int protocol) {
        return protocol == IpProtocol.ICMP ? IcmpHeader.IDENTIFIER : TcpHeader.SOURCE_PORT;
    }

    /**
     * Reads the quoted datagram's addresses, protocol and transport offset into this translator's fields.
     *
     * @return false unless the error quotes a whole, unfragmented IPv4 header and the 8 bytes after it
     */
    private boolean readQuoted(final Ipv4Packet packet) {
        final int shortest = IcmpHeader.BYTES + Ipv4Header.MIN_BYTES + IcmpHeader.QUOTED_DATA_BYTES;
        if (packet.isFragment() || packet.l4Bytes < shortest) {
            return false;
        }
        final MemorySegment frame = packet.frame;
        final long quoted = packet.l4 + IcmpHeader.BYTES;
        final int versionAndLength = Wire.u8(frame, quoted + Ipv4Header.VERSION_IHL);
        final int headerBytes = (versionAndLength & 0xF) * 4;
        if (versionAndLength >>> 4 != 4 || headerBytes < Ipv4Header.MIN_BYTES
                || IcmpHeader.BYTES + headerBytes + IcmpHeader.QUOTED_DATA_BYTES > packet.l4Bytes) {
            return false;
        }
        if ((Wire.u16(frame, quoted + Ipv4Header.FLAGS_FRAGMENT) & Ipv4Header.FRAGMENT_OFFSET_MASK) != 0) {
            return false;
        }
        inner = quoted;
        innerL4 = quoted + headerBytes;
        innerSource = Wire.u32(frame, quoted + Ipv4Header.SOURCE);
        innerDestination = Wire.u32(frame, quoted + Ipv4Header.DESTINATION);
        innerProtocol = Wire.u8(frame, quoted + Ipv4Header.PROTOCOL);
        quotedBytes = packet.l4Bytes - IcmpHeader.BYTES - headerBytes;
        return true;
    }

    private static void rewriteQuoted(final MemorySegment frame, final long inner, final long innerL4,
                                      final int quotedBytes, final int protocol, final int addressField,
                                      final int oldAddress, final int newAddress, final int portField,
                                      final int newPort) {
        Wire.u32(frame, inner + addressField, newAddress);
        Wire.u16(frame, inner + Ipv4Header.CHECKSUM,
                Checksums.update32(Wire.u16(frame, inner + Ipv4Header.CHECKSUM), oldAddress, newAddress));
        final int oldPort = Wire.u16(frame, innerL4 + portField);
        Wire.u16(frame, innerL4 + portField, newPort);
        switch (protocol) {
            case IpProtocol.TCP -> {
                if (quotedBytes >= TcpHeader.CHECKSUM + 2) {
                    final long field = innerL4 + TcpHeader.CHECKSUM;
                    Wire.u16(frame, field, Checksums.update16(
                            Checksums.update32(Wire.u16(frame, field), oldAddress, newAddress), oldPort, newPort));
                }
            }
            case IpProtocol.UDP -> {
                final long field = innerL4 + UdpHeader.CHECKSUM;
                final int checksum = Wire.u16(frame, field);
                if (checksum != 0) {
                    Wire.u16(frame, field, Checksums.udpOnWire(Checksums.update16(
                            Checksums.update32(checksum, oldAddress, newAddress), oldPort, newPort)));
                }
            }
            default -> {
                final long field = innerL4 + IcmpHeader.CHECKSUM;
                Wire.u16(frame, field, Checksums.update16(Wire.u16(frame, field), oldPort, newPort));
            }
        }
    }

    private static void rewriteOuter(final Ipv4Packet packet, final int addressField, final int newAddress) {
        final MemorySegment frame = packet.frame;
        final int oldAddress = Wire.u32(frame, packet.ip + addressField);
        Wire.u32(frame, packet.ip + addressField, newAddress);
        Wire.u16(frame, packet.ip + Ipv4Header.CHECKSUM,
                Checksums.update32(Wire.u16(frame, packet.ip + Ipv4Header.CHECKSUM), oldAddress, newAddress));
        Checksums.fillIcmp(frame, packet.l4, packet.l4Bytes);
    }
}

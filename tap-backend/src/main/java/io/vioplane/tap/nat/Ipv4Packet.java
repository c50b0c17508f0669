package io.vioplane.tap.nat;

import io.vioplane.platform.packet.Checksums;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.IcmpHeader;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Header;
import io.vioplane.platform.packet.TcpHeader;
import io.vioplane.platform.packet.UdpHeader;
import io.vioplane.platform.packet.Wire;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;

/**
 * An IPv4 packet inside a frame, parsed and checked once (RFC 791 3.1, RFC 1122 3.2.1, RFC 1812 5.2.2): a
 * reusable flyweight whose fields the translators read and rewrite. {@link #parse} checks the header
 * (version, IHL, total length against the frame, header checksum); {@link #parseTransport} checks the TCP,
 * UDP or ICMP header of an unfragmented packet or first fragment (lengths, data offset); {@link #checkOffload}
 * checks a frame's virtio-net offload fields against the packet; {@link #transportChecksumValid} verifies a
 * complete transport checksum from scratch. Every failure is a {@link NatDrop} reason, never an exception.
 */
public final class Ipv4Packet {
    public MemorySegment frame;
    /** Where the IP header starts in {@link #frame}. */
    public long ip;
    /** Where the frame (its Ethernet header) starts in {@link #frame}. */
    public long frameStart;
    public int headerBytes;
    int totalBytes;
    public int protocol;
    public int source;
    public int destination;
    public int ttl;
    int identification;
    int flagsAndOffset;
    /** Where the transport header starts. */
    public long l4;
    /** Transport bytes in this packet (the IP payload). */
    public int l4Bytes;
    /** True when the transport header is here: unfragmented, or a first fragment. */
    public boolean hasTransport;
    int sourcePort;
    public int destinationPort;
    int tcpFlags;
    public int icmpType;
    int icmpCode;
    /** UDP: the length field. */
    public int udpLength;

    /**
     * Parses the IPv4 header of the frame starting at {@code frameStart}.
     *
     * @param frameBytes the frame's length (Ethernet header included)
     * @return null if the header is sound, else why not
     */
    public NatDrop parse(final MemorySegment segment, final long frameStart, final int frameBytes) {
        this.frame = segment;
        this.frameStart = frameStart;
        this.ip = frameStart + Ethernet.HEADER_BYTES;
        final int available = frameBytes - Ethernet.HEADER_BYTES;
        hasTransport = false;
        if (available < Ipv4Header.MIN_BYTES) {
            return NatDrop.FRAME_TOO_SHORT;
        }
        final int versionAndLength = Wire.u8(segment, ip + Ipv4Header.VERSION_IHL);
        if (versionAndLength >>> 4 != 4) {
            return NatDrop.IP_BAD_VERSION;
        }
        headerBytes = (versionAndLength & 0xF) * 4;
        if (headerBytes < Ipv4Header.MIN_BYTES) {
            return NatDrop.IP_BAD_HEADER_LENGTH;
        }
        totalBytes = Wire.u16(segment, ip + Ipv4Header.TOTAL_LENGTH);
        if (totalBytes > available) {
            return NatDrop.IP_BAD_TOTAL_LENGTH;
        }
        if (totalBytes < headerBytes) {
            return headerBytes > available ? NatDrop.IP_BAD_TOTAL_LENGTH : NatDrop.IP_BAD_HEADER_LENGTH;
        }
        if (!Checksums.ipv4HeaderValid(segment, ip, headerBytes)) {
            return NatDrop.IP_BAD_CHECKSUM;
        }
        protocol = Wire.u8(segment, ip + Ipv4Header.PROTOCOL);
        source = Wire.u32(segment, ip + Ipv4Header.SOURCE);
        destination = Wire.u32(segment, ip + Ipv4Header.DESTINATION);
        ttl = Wire.u8(segment, ip + Ipv4Header.TTL);
        identification = Wire.u16(segment, ip + Ipv4Header.IDENTIFICATION);
        flagsAndOffset = Wire.u16(segment, ip + Ipv4Header.FLAGS_FRAGMENT);
        l4 = ip + headerBytes;
        l4Bytes = totalBytes - headerBytes;
        return null;
    }

    /** @return true if this is a fragment (MF set or a non-zero offset) */
    public boolean isFragment() {
        return (flagsAndOffset & (Ipv4Header.FLAG_MORE_FRAGMENTS | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0;
    }

    /** @return true if this is a fragment after the first (it carries no transport header) */
    public boolean isLaterFragment() {
        return (flagsAndOffset & Ipv4Header.FRAGMENT_OFFSET_MASK) != 0;
    }

    /** @return true if DF is set */
    boolean dontFragment() {
        return (flagsAndOffset & Ipv4Header.FLAG_DONT_FRAGMENT) != 0;
    }

    /**
     * Parses the transport header of an unfragmented packet or first fragment; later fragments have none.
     *
     * @return null if sound, else why not
     */
    public NatDrop parseTransport() {
        hasTransport = false;
        tcpFlags = 0;
        if (isLaterFragment()) {
            return protocol == IpProtocol.TCP || protocol == IpProtocol.UDP || protocol == IpProtocol.ICMP
                    ? null : NatDrop.UNSUPPORTED_PROTOCOL;
        }
        final boolean fragment = isFragment();
        switch (protocol) {
            case IpProtocol.TCP -> {
                if (l4Bytes < TcpHeader.MIN_BYTES) {
                    return fragment ? NatDrop.FRAGMENT_TINY : NatDrop.L4_TRUNCATED;
                }
                final int dataOffsetBytes = (Wire.u8(frame, l4 + TcpHeader.DATA_OFFSET) >>> 4) * 4;
                if (dataOffsetBytes < TcpHeader.MIN_BYTES) {
                    return NatDrop.TCP_BAD_DATA_OFFSET;
                }
                if (dataOffsetBytes > l4Bytes) {
                    return fragment ? NatDrop.FRAGMENT_TINY : NatDrop.TCP_BAD_DATA_OFFSET;
                }
                sourcePort = Wire.u16(frame, l4 + TcpHeader.SOURCE_PORT);
                destinationPort = Wire.u16(frame, l4 + TcpHeader.DESTINATION_PORT);
                tcpFlags = Wire.u8(frame, l4 + TcpHeader.FLAGS);
            }
            case IpProtocol.UDP -> {
                if (l4Bytes < UdpHeader.BYTES) {
                    return fragment ? NatDrop.FRAGMENT_TINY : NatDrop.L4_TRUNCATED;
                }
                udpLength = Wire.u16(frame, l4 + UdpHeader.LENGTH);
                if (udpLength < UdpHeader.BYTES || !fragment && udpLength > l4Bytes) {
                    return NatDrop.UDP_BAD_LENGTH;
                }
                sourcePort = Wire.u16(frame, l4 + UdpHeader.SOURCE_PORT);
                destinationPort = Wire.u16(frame, l4 + UdpHeader.DESTINATION_PORT);
            }
            case IpProtocol.ICMP -> {
                if (l4Bytes < IcmpHeader.BYTES) {
                    return fragment ? NatDrop.FRAGMENT_TINY : NatDrop.L4_TRUNCATED;
                }
                icmpType = Wire.u8(frame, l4 + IcmpHeader.TYPE);
                icmpCode = Wire.u8(frame, l4 + IcmpHeader.CODE);
                sourcePort = Wire.u16(frame, l4 + IcmpHeader.IDENTIFIER);
                destinationPort = 0;
            }
            default -> {
                return NatDrop.UNSUPPORTED_PROTOCOL;
            }
        }
        hasTransport = true;
        return null;
    }

    /** @return the offset of the transport checksum field from the transport header */
    int checksumFieldOffset() {
        return switch (protocol) {
            case IpProtocol.TCP -> TcpHeader.CHECKSUM;
            case IpProtocol.UDP -> UdpHeader.CHECKSUM;
            default -> IcmpHeader.CHECKSUM;
        };
    }

    /**
     * Checks the frame's offload fields against the packet: a checksum left to the device (NEEDS_CSUM) must
     * start at the transport header and land on its checksum field, in a whole datagram; a GSO frame
     * (VIRTIO 1.x 5.1.6.2.1) must ask for the checksum, match the protocol and fill the frame exactly.
     *
     * @param frameBytes the frame's length
     * @return null if consistent, else {@link NatDrop#BAD_OFFLOAD}
     */
    public NatDrop checkOffload(final NetHeaderValues header, final int frameBytes) {
        if (header.needsChecksum()) {
            if (isFragment() || !hasTransport) {
                return NatDrop.BAD_OFFLOAD;
            }
            if (header.checksumStart() != l4 - frameStart || header.checksumOffset() != checksumFieldOffset()) {
                return NatDrop.BAD_OFFLOAD;
            }
        }
        if (header.isGso()) {
            if (!header.needsChecksum() || Ethernet.HEADER_BYTES + totalBytes != frameBytes) {
                return NatDrop.BAD_OFFLOAD;
            }
            final boolean matches = switch (header.gsoKind()) {
                case VirtioNetHeader.GSO_TCPV4 -> protocol == IpProtocol.TCP;
                case VirtioNetHeader.GSO_UDP, VirtioNetHeader.GSO_UDP_L4 -> protocol == IpProtocol.UDP;
                default -> false;
            };
            if (!matches) {
                return NatDrop.BAD_OFFLOAD;
            }
        }
        return null;
    }

    /**
     * @param trustDataValid true for frames from the host kernel, whose DATA_VALID vouches for the checksum; false
     *                       for a guest's, where the flag means nothing (VIRTIO 1.x 5.1.6.2.1: the driver MUST NOT
     *                       set it)
     * @return true if the transport checksum is complete and right, or cannot be checked here (left to the
     *     device, vouched for by the host kernel, or spread over fragments)
     */
    public boolean transportChecksumValid(final NetHeaderValues header, final boolean trustDataValid) {
        if (header.needsChecksum() || trustDataValid && (header.flags() & VirtioNetHeader.F_DATA_VALID) != 0
                || isFragment()) {
            return true;
        }
        return switch (protocol) {
            case IpProtocol.TCP -> Checksums.transportValid(frame, l4, l4Bytes, source, destination, IpProtocol.TCP);
            case IpProtocol.UDP -> Checksums.transportValid(frame, l4, udpLength, source, destination, IpProtocol.UDP);
            case IpProtocol.ICMP -> Checksums.icmpValid(frame, l4, l4Bytes);
            default -> true;
        };
    }

    /** @return the frame length that carries exactly this packet (trailing Ethernet padding cut) */
    public int frameBytes() {
        return Ethernet.HEADER_BYTES + totalBytes;
    }
}

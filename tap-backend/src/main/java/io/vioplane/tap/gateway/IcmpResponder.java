package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.Ipv4Packet;
import io.vioplane.platform.packet.Checksums;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.IcmpHeader;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.Ipv4Header;
import io.vioplane.platform.packet.Wire;

import java.lang.foreign.MemorySegment;

/**
 * The ICMP messages the gateway makes itself (RFC 792, RFC 1122 3.2.2 and RFC 1812 4.3): echo replies for its
 * own addresses, and time exceeded for a packet whose TTL ran out in it. Never an error about an ICMP error, a
 * later fragment, a broadcast or multicast destination, or a martian source (RFC 1122 3.2.2, RFC 1812 4.3.2.7).
 */
final class IcmpResponder {
    private IcmpResponder() {
    }

    /**
     * Writes the echo reply to the checked echo request {@code request} at {@code out}/{@code at} (which may be
     * where the request is): addresses swapped, type 0, TTL 64, the ICMP checksum updated for the type.
     *
     * @return the reply frame's length
     */
    static int echoReply(final Ipv4Packet request, final MemorySegment out, final long at, final long destinationMac,
                         final long sourceMac) {
        final int frameBytes = request.frameBytes();
        MemorySegment.copy(request.frame, request.frameStart, out, at, frameBytes);
        FrameBuilder.ethernet(out, at, destinationMac, sourceMac, Ethernet.TYPE_IPV4);
        final long ip = at + Ethernet.HEADER_BYTES;
        Wire.u32(out, ip + Ipv4Header.SOURCE, request.destination);
        Wire.u32(out, ip + Ipv4Header.DESTINATION, request.source);
        Wire.u8(out, ip + Ipv4Header.TTL, Ipv4Header.DEFAULT_TTL);
        Checksums.fillIpv4Header(out, ip, request.headerBytes);
        final long icmp = ip + request.headerBytes;
        final int oldWord = Wire.u16(out, icmp + IcmpHeader.TYPE);
        final int newWord = IcmpHeader.ECHO_REPLY << 8 | (oldWord & 0xFF);
        Wire.u16(out, icmp + IcmpHeader.TYPE, newWord);
        Wire.u16(out, icmp + IcmpHeader.CHECKSUM,
                Checksums.update16(Wire.u16(out, icmp + IcmpHeader.CHECKSUM), oldWord, newWord));
        return frameBytes;
    }

    /** @return true if an ICMP error may be sent about {@code packet} (RFC 1122 3.2.2) */
    static boolean mayReportOn(final Ipv4Packet packet) {
        if (packet.isLaterFragment() || Ipv4Address.isMartianSource(packet.source)
                || Ipv4Address.isMulticast(packet.destination) || packet.destination == -1) {
            return false;
        }
        return packet.protocol != IpProtocol.ICMP || !packet.hasTransport || !IcmpHeader.isError(packet.icmpType);
    }

    /** @return the length of the error frame {@link #timeExceeded} writes about {@code packet} */
    static int timeExceededBytes(final Ipv4Packet packet) {
        return Ethernet.HEADER_BYTES + Ipv4Header.MIN_BYTES + IcmpHeader.BYTES + quotedBytes(packet);
    }

    private static int quotedBytes(final Ipv4Packet packet) {
        return packet.headerBytes + Math.min(IcmpHeader.QUOTED_DATA_BYTES, packet.l4Bytes);
    }

    /**
     * Writes a time exceeded in transit (type 11 code 0) about {@code packet} from {@code source}, quoting its
     * header and first 8 data bytes.
     *
     * @return the frame's length
     */
    static int timeExceeded(final Ipv4Packet packet, final MemorySegment out, final long at, final long destinationMac,
                            final long sourceMac, final int source, final int identification) {
        final int quoted = quotedBytes(packet);
        final int icmpBytes = IcmpHeader.BYTES + quoted;
        final int ipBytes = Ipv4Header.MIN_BYTES + icmpBytes;
        FrameBuilder.ethernet(out, at, destinationMac, sourceMac, Ethernet.TYPE_IPV4);
        final long ip = at + Ethernet.HEADER_BYTES;
        FrameBuilder.ipv4(out, ip, ipBytes, identification, IpProtocol.ICMP, source, packet.source);
        final long icmp = ip + Ipv4Header.MIN_BYTES;
        Wire.u8(out, icmp + IcmpHeader.TYPE, IcmpHeader.TIME_EXCEEDED);
        Wire.u8(out, icmp + IcmpHeader.CODE, 0);
        Wire.u32(out, icmp + IcmpHeader.IDENTIFIER, 0);
        MemorySegment.copy(packet.frame, packet.ip, out, icmp + IcmpHeader.BYTES, quoted);
        Checksums.fillIcmp(out, icmp, icmpBytes);
        return Ethernet.HEADER_BYTES + ipBytes;
    }
}

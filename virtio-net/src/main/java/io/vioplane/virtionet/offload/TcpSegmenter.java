package io.vioplane.virtionet.offload;

import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.InternetChecksum;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Header;
import io.vioplane.platform.packet.Ipv6Header;
import io.vioplane.platform.packet.TcpHeader;
import io.vioplane.platform.packet.Wire;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Software TCP segmentation (what a NIC does for TSO, RFC 9293 sequence rules): splits a GSO frame
 * (VIRTIO_NET_HDR_GSO_TCPV4 or TCPV6) into frames of at most {@code gso_size} payload bytes, for a receiver that
 * did not negotiate GSO. Each segment gets the original Ethernet, IP and TCP headers with the IPv4 total length,
 * identification and header checksum (or the IPv6 payload length), the TCP sequence number and flags (FIN and PSH
 * only on the last segment, CWR only on the first) rewritten; the TCP checksum is either completed, or left as a
 * pseudo-header partial sum with NEEDS_CSUM for a receiver that takes partial checksums.
 *
 * <p>One segment at a time into a reusable buffer; no allocation per frame. IPv4 options and an 802.1Q tag are
 * handled; IPv6 extension headers are not (such a frame is refused).
 */
public final class TcpSegmenter {
    private final MemorySegment segment = Arena.ofAuto().allocate(65536 + 256, 64);
    private final NetHeaderValues segmentHeader = new NetHeaderValues();
    private MemorySegment source;
    private long sourceOffset;
    private int frameLength;
    private int mss;
    private int ipOffset;
    private int tcpOffset;
    private int headersLength;
    private boolean ipv4;
    private int payloadLength;
    private int segmentCount;
    private long firstSequence;
    private int firstIpId;
    private int originalTcpFlags;

    /**
     * Examines a GSO frame.
     *
     * @return the number of segments it makes, or 0 if it cannot be segmented (not TCP over IPv4/IPv6, headers
     *     truncated or inconsistent, gso_size 0)
     */
    public int prepare(final MemorySegment frame, final long offset, final int lengthBytes, final NetHeaderValues header) {
        source = frame;
        sourceOffset = offset;
        frameLength = lengthBytes;
        mss = header.gsoSize();
        segmentCount = 0;
        if (mss == 0 || lengthBytes < Ethernet.HEADER_BYTES) {
            return 0;
        }
        int etherType = Wire.u16(frame, offset + Ethernet.TYPE);
        ipOffset = Ethernet.HEADER_BYTES;
        if (etherType == Ethernet.TYPE_VLAN) {
            if (lengthBytes < Ethernet.TAGGED_HEADER_BYTES) {
                return 0;
            }
            etherType = Wire.u16(frame, offset + Ethernet.TAGGED_TYPE);
            ipOffset = Ethernet.TAGGED_HEADER_BYTES;
        }
        final int kind = header.gsoKind();
        if (etherType == Ethernet.TYPE_IPV4 && kind == VirtioNetHeader.GSO_TCPV4) {
            ipv4 = true;
            if (lengthBytes < ipOffset + Ipv4Header.MIN_BYTES) {
                return 0;
            }
            final int versionIhl = Wire.u8(frame, offset + ipOffset + Ipv4Header.VERSION_IHL);
            final int ihl = (versionIhl & 0xF) * 4;
            if (versionIhl >>> 4 != 4 || ihl < Ipv4Header.MIN_BYTES
                    || Wire.u8(frame, offset + ipOffset + Ipv4Header.PROTOCOL) != IpProtocol.TCP) {
                return 0;
            }
            tcpOffset = ipOffset + ihl;
            firstIpId = Wire.u16(frame, offset + ipOffset + Ipv4Header.IDENTIFICATION);
        } else if (etherType == Ethernet.TYPE_IPV6 && kind == VirtioNetHeader.GSO_TCPV6) {
            ipv4 = false;
            if (lengthBytes < ipOffset + Ipv6Header.HEADER_BYTES
                    || Wire.u8(frame, offset + ipOffset + Ipv6Header.NEXT_HEADER) != IpProtocol.TCP) {
                return 0;
            }
            tcpOffset = ipOffset + Ipv6Header.HEADER_BYTES;
        } else {
            return 0;
        }
        if (lengthBytes < tcpOffset + TcpHeader.MIN_BYTES) {
            return 0;
        }
        final int tcpHeaderLength = (Wire.u8(frame, offset + tcpOffset + TcpHeader.DATA_OFFSET) >>> 4) * 4;
        if (tcpHeaderLength < TcpHeader.MIN_BYTES) {
            return 0;
        }
        headersLength = tcpOffset + tcpHeaderLength;
        if (headersLength > lengthBytes) {
            return 0;
        }
        payloadLength = lengthBytes - headersLength;
        firstSequence = Wire.u32(frame, offset + tcpOffset + TcpHeader.SEQUENCE) & 0xFFFF_FFFFL;
        originalTcpFlags = Wire.u8(frame, offset + tcpOffset + TcpHeader.FLAGS);
        segmentCount = payloadLength == 0 ? 1 : (payloadLength + mss - 1) / mss;
        return segmentCount;
    }

    /** @return the buffer segments are built in */
    public MemorySegment buffer() {
        return segment;
    }

    /** @return the virtio-net header the last built segment carries */
    public NetHeaderValues header() {
        return segmentHeader;
    }

    /**
     * Builds segment {@code index} (0-based) into {@link #buffer()}.
     *
     * @param partialChecksum leave the TCP checksum as a pseudo-header partial sum with NEEDS_CSUM
     * @return the segment's length
     */
    public int build(final int index, final boolean partialChecksum) {
        final int payloadStart = index * mss;
        final int piece = Math.min(mss, payloadLength - payloadStart);
        final int length = headersLength + piece;
        MemorySegment.copy(source, sourceOffset, segment, 0, headersLength);
        MemorySegment.copy(source, sourceOffset + headersLength + payloadStart, segment, headersLength, piece);
        final int tcpLength = length - tcpOffset;
        if (ipv4) {
            Wire.u16(segment, ipOffset + Ipv4Header.TOTAL_LENGTH, length - ipOffset);
            Wire.u16(segment, ipOffset + Ipv4Header.IDENTIFICATION, firstIpId + index);
            Wire.u16(segment, ipOffset + Ipv4Header.CHECKSUM, 0);
            final int ipHeaderLength = tcpOffset - ipOffset;
            Wire.u16(segment, ipOffset + Ipv4Header.CHECKSUM,
                    InternetChecksum.finish(InternetChecksum.sum(segment, ipOffset, ipHeaderLength, 0)));
        } else {
            Wire.u16(segment, ipOffset + Ipv6Header.PAYLOAD_LENGTH, tcpLength);
        }
        Wire.u32(segment, tcpOffset + TcpHeader.SEQUENCE, (int) (firstSequence + payloadStart));
        int flags = originalTcpFlags;
        if (index != segmentCount - 1) {
            flags &= ~(TcpHeader.FIN | TcpHeader.PSH);
        }
        if (index != 0) {
            flags &= ~TcpHeader.CWR;
        }
        Wire.u8(segment, tcpOffset + TcpHeader.FLAGS, flags);
        final long pseudo = pseudoHeaderSum(tcpLength);
        segmentHeader.clear();
        if (partialChecksum) {
            Wire.u16(segment, tcpOffset + TcpHeader.CHECKSUM, InternetChecksum.fold(pseudo));
            segmentHeader.needsChecksum(tcpOffset, TcpHeader.CHECKSUM);
        } else {
            Wire.u16(segment, tcpOffset + TcpHeader.CHECKSUM, 0);
            Wire.u16(segment, tcpOffset + TcpHeader.CHECKSUM,
                    InternetChecksum.finish(InternetChecksum.sum(segment, tcpOffset, tcpLength, pseudo)));
            segmentHeader.checksumComplete(false);
        }
        return length;
    }

    private long pseudoHeaderSum(final int tcpLength) {
        final long addresses = ipv4
                ? InternetChecksum.sum(segment, ipOffset + Ipv4Header.SOURCE, 8, 0)
                : InternetChecksum.sum(segment, ipOffset + Ipv6Header.SOURCE, Ipv6Header.ADDRESSES_BYTES, 0);
        return addresses + IpProtocol.TCP + tcpLength;
    }
}

package io.vioplane.virtionet.offload;

import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

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
    private static final ValueLayout.OfShort U16_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;

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
        if (mss == 0 || lengthBytes < 14) {
            return 0;
        }
        int etherType = frame.get(U16_BE, offset + 12) & 0xFFFF;
        ipOffset = 14;
        if (etherType == 0x8100) {
            if (lengthBytes < 18) {
                return 0;
            }
            etherType = frame.get(U16_BE, offset + 16) & 0xFFFF;
            ipOffset = 18;
        }
        final int kind = header.gsoKind();
        if (etherType == 0x0800 && kind == VirtioNetHeader.GSO_TCPV4) {
            ipv4 = true;
            if (lengthBytes < ipOffset + 20) {
                return 0;
            }
            final int versionIhl = frame.get(ValueLayout.JAVA_BYTE, offset + ipOffset) & 0xFF;
            final int ihl = (versionIhl & 0xF) * 4;
            if (versionIhl >>> 4 != 4 || ihl < 20 || (frame.get(ValueLayout.JAVA_BYTE, offset + ipOffset + 9) & 0xFF) != 6) {
                return 0;
            }
            tcpOffset = ipOffset + ihl;
            firstIpId = frame.get(U16_BE, offset + ipOffset + 4) & 0xFFFF;
        } else if (etherType == 0x86DD && kind == VirtioNetHeader.GSO_TCPV6) {
            ipv4 = false;
            if (lengthBytes < ipOffset + 40 || (frame.get(ValueLayout.JAVA_BYTE, offset + ipOffset + 6) & 0xFF) != 6) {
                return 0;
            }
            tcpOffset = ipOffset + 40;
        } else {
            return 0;
        }
        if (lengthBytes < tcpOffset + 20) {
            return 0;
        }
        final int tcpHeaderLength = ((frame.get(ValueLayout.JAVA_BYTE, offset + tcpOffset + 12) & 0xFF) >>> 4) * 4;
        if (tcpHeaderLength < 20) {
            return 0;
        }
        headersLength = tcpOffset + tcpHeaderLength;
        if (headersLength > lengthBytes) {
            return 0;
        }
        payloadLength = lengthBytes - headersLength;
        firstSequence = frame.get(U32_BE, offset + tcpOffset + 4) & 0xFFFF_FFFFL;
        originalTcpFlags = frame.get(ValueLayout.JAVA_BYTE, offset + tcpOffset + 13) & 0xFF;
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
            segment.set(U16_BE, ipOffset + 2, (short) (length - ipOffset));
            segment.set(U16_BE, ipOffset + 4, (short) (firstIpId + index));
            segment.set(U16_BE, ipOffset + 10, (short) 0);
            final int ipHeaderLength = tcpOffset - ipOffset;
            segment.set(U16_BE, ipOffset + 10,
                    (short) InternetChecksum.finish(InternetChecksum.sum(segment, ipOffset, ipHeaderLength, 0)));
        } else {
            segment.set(U16_BE, ipOffset + 4, (short) tcpLength);
        }
        segment.set(U32_BE, tcpOffset + 4, (int) (firstSequence + payloadStart));
        int flags = originalTcpFlags;
        if (index != segmentCount - 1) {
            flags &= ~(TCP_FIN | TCP_PSH);
        }
        if (index != 0) {
            flags &= ~TCP_CWR;
        }
        segment.set(ValueLayout.JAVA_BYTE, tcpOffset + 13, (byte) flags);
        final long pseudo = pseudoHeaderSum(tcpLength);
        segmentHeader.clear();
        if (partialChecksum) {
            long folded = pseudo;
            while ((folded >>> 16) != 0) {
                folded = (folded & 0xFFFF) + (folded >>> 16);
            }
            segment.set(U16_BE, tcpOffset + 16, (short) folded);
            segmentHeader.needsChecksum(tcpOffset, 16);
        } else {
            segment.set(U16_BE, tcpOffset + 16, (short) 0);
            segment.set(U16_BE, tcpOffset + 16,
                    (short) InternetChecksum.finish(InternetChecksum.sum(segment, tcpOffset, tcpLength, pseudo)));
            segmentHeader.checksumComplete(false);
        }
        return length;
    }

    private long pseudoHeaderSum(final int tcpLength) {
        final long addresses = ipv4
                ? InternetChecksum.sum(segment, ipOffset + 12, 8, 0)
                : InternetChecksum.sum(segment, ipOffset + 8, 32, 0);
        return addresses + 6 + tcpLength;
    }
}

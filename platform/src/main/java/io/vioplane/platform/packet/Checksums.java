package io.vioplane.platform.packet;

import java.lang.foreign.MemorySegment;

/**
 * Internet checksum arithmetic for header rewrites: incremental updates (RFC 1624), the pseudo-header sum of
 * TCP and UDP (RFC 9293 3.1, RFC 768), and checks and fills from scratch (RFC 1071, through
 * {@link InternetChecksum}).
 *
 * <p>Two kinds of checksum field are updated differently when an address or port changes:
 * <ul>
 *   <li>A complete checksum {@code HC} becomes {@code ~(~HC + ~m + m')} for a 16-bit field changing from
 *       {@code m} to {@code m'} (RFC 1624 equation 3, which never produces the wrong zero of equation 2).</li>
 *   <li>A partial checksum, as a frame with virtio-net's NEEDS_CSUM carries it (VIRTIO 1.x 5.1.6.2, Linux
 *       CHECKSUM_PARTIAL), holds the folded, uncomplemented one's-complement sum of the pseudo-header only; the
 *       device sums the rest later. An address change updates it as a sum, {@code P + ~m + m'}; a port change
 *       does not touch it (ports are summed by the device from the segment itself).</li>
 * </ul>
 * All arithmetic is on {@code int}s holding 16-bit values; nothing allocates.
 */
public final class Checksums {
    private Checksums() {
    }

    /** @return {@code sum} folded to 16 bits (end-around carry), not complemented */
    public static int fold(final long sum) {
        return InternetChecksum.fold(sum);
    }

    /** @return the complete checksum after a 16-bit field changed from {@code oldWord} to {@code newWord} */
    public static int update16(final int checksum, final int oldWord, final int newWord) {
        return ~fold((~checksum & 0xFFFFL) + (~oldWord & 0xFFFFL) + (newWord & 0xFFFFL)) & 0xFFFF;
    }

    /** @return the complete checksum {@code checksum} after a 32-bit field (an address) changed */
    public static int update32(final int checksum, final int oldValue, final int newValue) {
        return ~fold((~checksum & 0xFFFFL) + (~oldValue >>> 16 & 0xFFFFL) + (~oldValue & 0xFFFFL)
                + (newValue >>> 16 & 0xFFFFL) + (newValue & 0xFFFFL)) & 0xFFFF;
    }

    /** @return the partial (pseudo-header) sum {@code partial} after an address in the pseudo-header changed */
    public static int updatePartial32(final int partial, final int oldValue, final int newValue) {
        final int folded = fold((partial & 0xFFFFL) + (~oldValue >>> 16 & 0xFFFFL) + (~oldValue & 0xFFFFL)
                + (newValue >>> 16 & 0xFFFFL) + (newValue & 0xFFFFL));
        return folded;
    }

    /** @return a UDP checksum as sent: a computed zero is sent as 0xFFFF, since zero means "none" (RFC 768) */
    public static int udpOnWire(final int checksum) {
        return checksum == 0 ? 0xFFFF : checksum;
    }

    /**
     * @return the unfolded sum of the TCP/UDP pseudo-header: source, destination, zero and protocol, and the
     *     transport length
     */
    public static long pseudoHeaderSum(final int source, final int destination, final int protocol,
                                       final int transportBytes) {
        return (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF)
                + protocol + transportBytes;
    }

    /** @return true if the IPv4 header of {@code headerBytes} at {@code ip} sums to all ones (RFC 1071) */
    public static boolean ipv4HeaderValid(final MemorySegment frame, final long ip, final int headerBytes) {
        return sumsToOnes(frame, ip, headerBytes);
    }

    /** Computes and stores the IPv4 header checksum from scratch. */
    public static void fillIpv4Header(final MemorySegment frame, final long ip, final int headerBytes) {
        fill(frame, ip, headerBytes, ip + Ipv4Header.CHECKSUM);
    }

    /**
     * @return true if the TCP or UDP segment of {@code transportBytes} at {@code l4} verifies against its
     *     pseudo-header (a UDP checksum of zero means none and verifies)
     */
    public static boolean transportValid(final MemorySegment frame, final long l4, final int transportBytes,
                                         final int source, final int destination, final int protocol) {
        if (protocol == IpProtocol.UDP && Wire.u16(frame, l4 + UdpHeader.CHECKSUM) == 0) {
            return true;
        }
        final long pseudo = pseudoHeaderSum(source, destination, protocol, transportBytes);
        return InternetChecksum.finish(InternetChecksum.sum(frame, l4, transportBytes, pseudo)) == 0;
    }

    /** Computes and stores a TCP or UDP checksum from scratch (UDP's zero becomes 0xFFFF). */
    public static void fillTransport(final MemorySegment frame, final long l4, final int transportBytes,
                                     final int source, final int destination, final int protocol) {
        final long field = l4 + (protocol == IpProtocol.TCP ? TcpHeader.CHECKSUM : UdpHeader.CHECKSUM);
        Wire.u16(frame, field, 0);
        final long pseudo = pseudoHeaderSum(source, destination, protocol, transportBytes);
        final int checksum = InternetChecksum.finish(InternetChecksum.sum(frame, l4, transportBytes, pseudo));
        Wire.u16(frame, field, protocol == IpProtocol.UDP ? udpOnWire(checksum) : checksum);
    }

    /** @return true if the ICMP message of {@code messageBytes} at {@code icmp} sums to all ones */
    public static boolean icmpValid(final MemorySegment frame, final long icmp, final int messageBytes) {
        return sumsToOnes(frame, icmp, messageBytes);
    }

    /** Computes and stores an ICMP checksum from scratch. */
    public static void fillIcmp(final MemorySegment frame, final long icmp, final int messageBytes) {
        fill(frame, icmp, messageBytes, icmp + IcmpHeader.CHECKSUM);
    }

    private static boolean sumsToOnes(final MemorySegment frame, final long offset, final int lengthBytes) {
        return InternetChecksum.finish(InternetChecksum.sum(frame, offset, lengthBytes, 0)) == 0;
    }

    private static void fill(final MemorySegment frame, final long offset, final int lengthBytes, final long field) {
        Wire.u16(frame, field, 0);
        Wire.u16(frame, field, InternetChecksum.finish(InternetChecksum.sum(frame, offset, lengthBytes, 0)));
    }
}

package io.vioplane.platform.packet;

/**
 * The IPv4 header (RFC 791 section 3.1).
 *
 * <pre>
 *   0  version (4 bits) | IHL (4 bits, header length in 32-bit words, at least 5)
 *   1  DSCP | ECN
 *   2  total length (header and data, bytes)
 *   4  identification
 *   6  flags (reserved, DF, MF) | fragment offset (13 bits, in 8-byte units)
 *   8  TTL
 *   9  protocol
 *   10 header checksum (RFC 1071 over the header)
 *   12 source address
 *   16 destination address
 *   20 options (IHL &gt; 5)
 * </pre>
 */
public final class Ipv4Header {
    public static final int VERSION_IHL = 0;
    public static final int TOTAL_LENGTH = 2;
    public static final int IDENTIFICATION = 4;
    public static final int FLAGS_FRAGMENT = 6;
    public static final int TTL = 8;
    public static final int PROTOCOL = 9;
    public static final int CHECKSUM = 10;
    public static final int SOURCE = 12;
    public static final int DESTINATION = 16;
    public static final int MIN_BYTES = 20;
    public static final int FLAG_DONT_FRAGMENT = 0x4000;
    public static final int FLAG_MORE_FRAGMENTS = 0x2000;
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;
    /** The TTL of packets the gateway makes (RFC 1700 recommends 64). */
    public static final int DEFAULT_TTL = 64;

    private Ipv4Header() {
    }
}

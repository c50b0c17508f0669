package io.vioplane.platform.packet;

/**
 * The IPv6 fixed header (RFC 8200 section 3).
 *
 * <pre>
 *   0  version (4 bits, 6) | traffic class (8 bits) | flow label (20 bits)
 *   4  payload length (bytes after this 40-byte header, extension headers included)
 *   6  next header (an {@link IpProtocol} number, or an extension header)
 *   7  hop limit
 *   8  source address (16)
 *   24 destination address (16)
 *   40 payload
 * </pre>
 */
public final class Ipv6Header {
    public static final int PAYLOAD_LENGTH = 4;
    public static final int NEXT_HEADER = 6;
    public static final int HOP_LIMIT = 7;
    public static final int SOURCE = 8;
    public static final int DESTINATION = 24;
    public static final int HEADER_BYTES = 40;
    /** Source and destination, summed together into the TCP/UDP pseudo-header (RFC 8200 section 8.1). */
    public static final int ADDRESSES_BYTES = 32;

    private Ipv6Header() {
    }
}

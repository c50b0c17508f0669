package io.vioplane.platform.packet;

/**
 * The UDP header (RFC 768).
 *
 * <pre>
 *   0  source port
 *   2  destination port
 *   4  length (header and data, at least 8)
 *   6  checksum (over the pseudo-header and the datagram; 0 = none, a computed 0 is sent as 0xFFFF)
 * </pre>
 */
public final class UdpHeader {
    public static final int SOURCE_PORT = 0;
    public static final int DESTINATION_PORT = 2;
    public static final int LENGTH = 4;
    public static final int CHECKSUM = 6;
    public static final int BYTES = 8;

    private UdpHeader() {
    }
}

package io.vioplane.platform.packet;

/**
 * The ICMP header (RFC 792): echo messages carry an identifier and sequence number; error messages carry the
 * IP header and at least the first 8 data bytes of the datagram that caused them.
 *
 * <pre>
 *   0  type
 *   1  code
 *   2  checksum (over the whole ICMP message, no pseudo-header)
 *   4  echo: identifier | error: unused, or next-hop MTU (type 3 code 4, RFC 1191), or pointer (type 12)
 *   6  echo: sequence number
 *   8  echo: data | error: original IP header + at least 8 bytes of its data
 * </pre>
 */
public final class IcmpHeader {
    public static final int TYPE = 0;
    public static final int CODE = 1;
    public static final int CHECKSUM = 2;
    public static final int IDENTIFIER = 4;
    public static final int SEQUENCE = 6;
    public static final int BYTES = 8;
    public static final int ECHO_REPLY = 0;
    public static final int DESTINATION_UNREACHABLE = 3;
    public static final int SOURCE_QUENCH = 4;
    public static final int ECHO_REQUEST = 8;
    public static final int TIME_EXCEEDED = 11;
    public static final int PARAMETER_PROBLEM = 12;
    /** The datagram bytes an error quotes after the original IP header (RFC 792). */
    public static final int QUOTED_DATA_BYTES = 8;

    private IcmpHeader() {
    }

    /** @return true for the error types the gateway translates (RFC 792; RFC 1812 4.3.2) */
    public static boolean isError(final int type) {
        return type == DESTINATION_UNREACHABLE || type == TIME_EXCEEDED || type == PARAMETER_PROBLEM
                || type == SOURCE_QUENCH;
    }
}

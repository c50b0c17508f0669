package io.vioplane.platform.packet;

/**
 * The TCP header (RFC 9293 section 3.1).
 *
 * <pre>
 *   0  source port
 *   2  destination port
 *   4  sequence number
 *   8  acknowledgment number
 *   12 data offset (4 bits, in 32-bit words, at least 5) | reserved
 *   13 flags: CWR ECE URG ACK PSH RST SYN FIN
 *   14 window
 *   16 checksum (over the pseudo-header and the segment)
 *   18 urgent pointer
 * </pre>
 */
public final class TcpHeader {
    public static final int SOURCE_PORT = 0;
    public static final int DESTINATION_PORT = 2;
    public static final int SEQUENCE = 4;
    public static final int ACKNOWLEDGMENT = 8;
    public static final int DATA_OFFSET = 12;
    public static final int FLAGS = 13;
    public static final int WINDOW = 14;
    public static final int CHECKSUM = 16;
    public static final int MIN_BYTES = 20;
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int CWR = 0x80;

    private TcpHeader() {
    }
}

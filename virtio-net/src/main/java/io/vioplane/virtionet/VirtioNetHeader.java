package io.vioplane.virtionet;

/**
 * The header in front of every frame on a virtio-net queue with VIRTIO_F_VERSION_1 (VIRTIO 1.x section
 * 5.1.6): 12 bytes, little-endian; the same layout TAP devices use with a vnet header size of 12.
 *
 * <pre>
 *   0  u8    flags        NEEDS_CSUM 1, DATA_VALID 2, RSC_INFO 4
 *   1  u8    gso_type     NONE 0, TCPV4 1, UDP 3, TCPV6 4, UDP_L4 5; ECN 0x80
 *   2  le16  hdr_len      bytes of Ethernet + IP + transport headers (a hint)
 *   4  le16  gso_size     MSS for GSO frames
 *   6  le16  csum_start   where the checksum computation starts
 *   8  le16  csum_offset  where, after csum_start, the checksum goes
 *   10 le16  num_buffers  receive buffers this frame spans (mergeable receive); 1 otherwise
 * </pre>
 */
public final class VirtioNetHeader {
    public static final int BYTES = 12;
    public static final int FLAGS = 0;
    public static final int GSO_TYPE = 1;
    public static final int HDR_LEN = 2;
    public static final int GSO_SIZE = 4;
    public static final int CSUM_START = 6;
    public static final int CSUM_OFFSET = 8;
    public static final int NUM_BUFFERS = 10;

    public static final int F_NEEDS_CSUM = 1;
    public static final int F_DATA_VALID = 2;
    public static final int F_RSC_INFO = 4;

    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    public static final int GSO_ECN = 0x80;

    private VirtioNetHeader() {
    }
}

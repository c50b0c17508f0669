package io.vioplane.tap.nat;

/**
 * The Ethernet II header (IEEE 802.3 with an EtherType; RFC 894 for IPv4 over it).
 *
 * <pre>
 *   0  destination MAC (6)
 *   6  source MAC (6)
 *   12 EtherType (2)     0x0800 IPv4, 0x0806 ARP
 *   14 payload
 * </pre>
 */
final class Ethernet {
    static final int DESTINATION = 0;
    static final int SOURCE = 6;
    static final int TYPE = 12;
    static final int HEADER_BYTES = 14;
    static final int TYPE_IPV4 = 0x0800;
    static final int TYPE_ARP = 0x0806;
    /** The shortest frame on the wire without its FCS (60 bytes; shorter ones are padded). */
    static final int MIN_FRAME_BYTES = 60;

    private Ethernet() {
    }
}

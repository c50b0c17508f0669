package io.vioplane.platform.packet;

/**
 * The Ethernet II header (IEEE 802.3 with an EtherType; RFC 894 for IPv4 over it).
 *
 * <pre>
 *   0  destination MAC (6)
 *   6  source MAC (6)
 *   12 EtherType (2)     0x0800 IPv4, 0x0806 ARP, 0x86DD IPv6, 0x8100 an 802.1Q tag follows
 *   14 payload
 * </pre>
 * With an 802.1Q tag (IEEE 802.1Q 9.6) the EtherType at 12 is 0x8100, the tag control at 14, and the payload's
 * EtherType at 16; the payload starts at 18.
 */
public final class Ethernet {
    public static final int DESTINATION = 0;
    public static final int SOURCE = 6;
    public static final int TYPE = 12;
    public static final int HEADER_BYTES = 14;
    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    /** IPv6 (RFC 8200). */
    public static final int TYPE_IPV6 = 0x86DD;
    /** An 802.1Q VLAN tag follows. */
    public static final int TYPE_VLAN = 0x8100;
    /** Where the payload's EtherType is when an 802.1Q tag is present. */
    public static final int TAGGED_TYPE = 16;
    /** Header bytes with an 802.1Q tag. */
    public static final int TAGGED_HEADER_BYTES = 18;
    /** The shortest frame on the wire without its FCS (60 bytes; shorter ones are padded). */
    public static final int MIN_FRAME_BYTES = 60;

    private Ethernet() {
    }
}

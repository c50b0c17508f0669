package io.vioplane.tap.nat;

import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.runtime.CounterKind;

/**
 * Why the gateway dropped a frame: one named counter each ("nat[NAME] drops: ..."). Every hostile or
 * unforwardable input ends in exactly one of these; nothing on the forwarding path throws.
 */
public enum NatDrop implements CounterKind {
    /** Shorter than the headers it claims (Ethernet, ARP, IPv4). */
    FRAME_TOO_SHORT("frame shorter than its headers"),
    /** Neither IPv4 nor ARP: IPv6, VLAN-tagged and other EtherTypes. */
    UNSUPPORTED_ETHERTYPE("not IPv4 or ARP (IPv6, VLAN tag, other EtherType)"),
    /** A unicast frame to another MAC address (flooded to the gateway by the bridge). */
    NOT_FOR_GATEWAY_MAC("unicast frame to another MAC address"),
    /** IPv4 version field not 4. */
    IP_BAD_VERSION("IP version field not 4"),
    /** IHL below 5 or beyond the total length (RFC 791). */
    IP_BAD_HEADER_LENGTH("IPv4 header length (IHL) below 5 or beyond the total length"),
    /** Total length beyond the frame, or below the header. */
    IP_BAD_TOTAL_LENGTH("IPv4 total length beyond the frame or below its header"),
    /** IPv4 header checksum wrong. */
    IP_BAD_CHECKSUM("IPv4 header checksum wrong"),
    /** A source address no host may use (RFC 1812 5.3.7). */
    MARTIAN_SOURCE("martian source address (0/8, 127/8, multicast, class E, broadcast)"),
    /** A destination no router forwards (RFC 1812 5.3.7). */
    MARTIAN_DESTINATION("martian destination address (0/8, 127/8, class E)"),
    /** A guest source outside the guest subnet, or the gateway's own. */
    SOURCE_OUTSIDE_SUBNET("guest source address outside the guest subnet or the gateway's own"),
    /** A guest source address that is not the one it leased (spoofing). */
    SPOOFED_SOURCE("guest sent from an address it did not lease"),
    /** An IP protocol the gateway does not translate (not TCP, UDP or ICMP). */
    UNSUPPORTED_PROTOCOL("IP protocol not TCP, UDP or ICMP"),
    /** Transport header cut short (TCP under 20 bytes, UDP or ICMP under 8). */
    L4_TRUNCATED("transport header truncated"),
    /** TCP data offset below 5 or beyond the segment. */
    TCP_BAD_DATA_OFFSET("TCP data offset below 5 or beyond the segment"),
    /** UDP length below 8 or beyond the IP payload. */
    UDP_BAD_LENGTH("UDP length below 8 or beyond the IP payload"),
    /** TCP, UDP or ICMP checksum wrong. */
    L4_BAD_CHECKSUM("TCP, UDP or ICMP checksum wrong"),
    /** Offload fields (NEEDS_CSUM, GSO) not matching the packet. */
    BAD_OFFLOAD("checksum offload or GSO fields do not match the packet"),
    /** A non-first fragment whose first fragment was not seen. */
    FRAGMENT_UNTRACKED("fragment whose first fragment was not seen"),
    /** A first fragment too short to hold the transport header (RFC 1858). */
    FRAGMENT_TINY("first fragment too short for the transport header (RFC 1858)"),
    /** A fragment addressed to the gateway itself (it does not reassemble). */
    FRAGMENT_TO_GATEWAY("fragment addressed to the gateway (no reassembly)"),
    /** TTL exhausted (RFC 1812 5.3.1). */
    TTL_EXPIRED("TTL expired"),
    /** Broadcast or multicast destination: routers do not forward these. */
    NOT_ROUTED_BROADCAST("broadcast or multicast destination (not routed)"),
    /** To another address of the guest subnet through the gateway (guests reach each other directly). */
    NOT_ROUTED_GUEST_SUBNET("destination inside the guest subnet (not routed)"),
    /** To the gateway, but neither DHCP nor ICMP echo. */
    TO_GATEWAY_UNSERVED("to the gateway: not DHCP or ICMP echo"),
    /** Host-only mode: a destination beyond the gateway. */
    HOST_ONLY("host-only mode: destination beyond the gateway"),
    /** A guest packet to the gateway's own host-side address. */
    TO_HOST_ADDRESS("guest packet to the gateway's host-side address"),
    /** A TCP segment without SYN that opens nothing. */
    TCP_NO_CONNECTION("TCP segment matching no connection and not a SYN"),
    /** An inbound packet matching no connection and no forward. */
    NO_CONNECTION("inbound packet matching no connection or forward"),
    /** ICMP neither echo nor a translated error. */
    ICMP_UNSUPPORTED("ICMP type not translated"),
    /** An ICMP error too short or quoting a malformed header. */
    ICMP_ERROR_MALFORMED("ICMP error too short or quoting a malformed header"),
    /** An ICMP error quoting a packet of no known connection. */
    ICMP_ERROR_UNMATCHED("ICMP error quoting no known connection"),
    /** The guest reached its connection limit. */
    GUEST_CONNECTION_LIMIT("guest at its connection limit"),
    /** No free host-side port or ICMP identifier. */
    PORTS_EXHAUSTED("no free host port or ICMP identifier"),
    /** The next hop did not answer ARP, or too many frames waited for it. */
    NEXT_HOP_UNRESOLVED("next hop did not answer ARP (or too many frames waited)"),
    /** The guest a forwarded packet goes to has no known MAC address yet. */
    GUEST_UNRESOLVED("guest MAC address unknown (ARP sent)"),
    /** The host link refused the frame (down, full or gone). */
    HOST_LINK_REFUSED("host link refused the frame (down, full or gone)"),
    /** Above the host link's MTU (no fragmentation). */
    HOST_TOO_BIG("above the host link MTU"),
    /** The queue of frames the gateway makes for guests was full. */
    REPLY_QUEUE_FULL("reply queue toward guests full"),
    /** An IPv4 frame from the host side not to the gateway's host address. */
    NOT_FOR_HOST_ADDRESS("host-side packet not to the gateway's host address"),
    /** A malformed ARP packet, or ARP for an address the gateway does not answer. */
    ARP_MALFORMED("ARP packet malformed (types, lengths, operation)"),
    /** ARP claiming a sender address the guest may not use. */
    ARP_SPOOFED("ARP with a sender address the guest may not use"),
    /** A DHCP message malformed (op, htype, cookie, options). */
    DHCP_MALFORMED("DHCP message malformed"),
    /** A DHCP chaddr differing from the frame's source MAC. */
    DHCP_CHADDR_MISMATCH("DHCP chaddr differs from the frame's source MAC"),
    /** A relayed DHCP message (giaddr set): nothing relays on a virtual segment. */
    DHCP_RELAYED("DHCP message through a relay (giaddr set)"),
    /** No free address in the lease pool. */
    DHCP_POOL_EXHAUSTED("DHCP lease pool exhausted"),
    /** A DHCP message type the server does not serve, or a request for another server. */
    DHCP_IGNORED("DHCP message not for this server or not served");

    private final String label;

    NatDrop(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}

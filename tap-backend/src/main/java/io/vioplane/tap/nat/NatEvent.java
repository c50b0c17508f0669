package io.vioplane.tap.nat;

import io.vioplane.platform.runtime.CounterKind;

/** Things the gateway did, one named counter each ("nat[NAME] ..."). */
public enum NatEvent implements CounterKind {
    GUEST_TO_HOST_PACKETS("guest to host packets"),
    GUEST_TO_HOST_BYTES("guest to host bytes"),
    HOST_TO_GUEST_PACKETS("host to guest packets"),
    HOST_TO_GUEST_BYTES("host to guest bytes"),
    CONNECTIONS_OPENED("connections opened"),
    CONNECTIONS_EXPIRED("connections expired"),
    CONNECTIONS_EVICTED("connections evicted (table full)"),
    FRAGMENTS_TRANSLATED("non-first fragments translated"),
    ICMP_ERRORS_TRANSLATED("ICMP errors translated"),
    ICMP_ERRORS_SENT("ICMP errors sent (time exceeded)"),
    ICMP_ECHO_REPLIES("ICMP echo replies sent"),
    GUEST_ARP_REPLIES("ARP replies to guests"),
    GUEST_ARP_REQUESTS("ARP requests to guests"),
    /** ARP between guests, flooded to the gateway: learned from, not answered (not a drop). */
    GUEST_ARP_OTHER("ARP between guests seen (learned, not answered)"),
    HOST_ARP_REQUESTS("ARP requests on the host link"),
    HOST_ARP_REPLIES("ARP replies on the host link"),
    HOST_ARP_RESOLVED("host-side neighbours resolved"),
    /** ARP on the host link that neither resolves a neighbour nor asks for the gateway's address (not a drop). */
    HOST_ARP_OTHER("ARP on the host link not for the gateway"),
    FRAMES_HELD_FOR_ARP("frames held until ARP resolved"),
    DHCP_OFFERS("DHCP offers"),
    DHCP_ACKS("DHCP acks"),
    DHCP_NAKS("DHCP naks"),
    DHCP_RELEASES("DHCP releases"),
    DHCP_DECLINES("DHCP declines");

    private final String label;

    NatEvent(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}

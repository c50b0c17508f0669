package io.vioplane.tap.gateway;

/** What the gateway does with traffic beyond itself. */
public enum NatMode {
    /**
     * Guests reach the host side through network address and port translation (RFC 3022 NAPT) onto the
     * gateway's host-side address.
     */
    NAT,
    /** The gateway answers ARP, DHCP and ICMP echo for itself and forwards nothing beyond. */
    HOST_ONLY
}

package io.vioplane.tap.nat;

/** IP protocol numbers the gateway handles (IANA "Assigned Internet Protocol Numbers"). */
final class IpProtocol {
    /** ICMP, RFC 792. */
    static final int ICMP = 1;
    /** TCP, RFC 9293. */
    static final int TCP = 6;
    /** UDP, RFC 768. */
    static final int UDP = 17;

    private IpProtocol() {
    }
}

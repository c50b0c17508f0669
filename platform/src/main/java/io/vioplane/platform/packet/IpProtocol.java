package io.vioplane.platform.packet;

/** IP protocol numbers the gateway handles (IANA "Assigned Internet Protocol Numbers"). */
public final class IpProtocol {
    /** ICMP, RFC 792. */
    public static final int ICMP = 1;
    /** TCP, RFC 9293. */
    public static final int TCP = 6;
    /** UDP, RFC 768. */
    public static final int UDP = 17;

    private IpProtocol() {
    }
}

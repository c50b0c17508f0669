package io.vioplane.tap.gateway;

/**
 * The DHCP message (RFC 2131 section 2, the BOOTP layout of RFC 951) and the option codes the server uses
 * (RFC 2132). Options follow the magic cookie 99.130.83.99.
 *
 * <pre>
 *   0   op (1 BOOTREQUEST, 2 BOOTREPLY)   1 htype (1)   2 hlen (6)   3 hops
 *   4   xid
 *   8   secs                               10 flags (0x8000 = broadcast)
 *   12  ciaddr (client's current address)
 *   16  yiaddr ("your" address)
 *   20  siaddr (next server)
 *   24  giaddr (relay agent)
 *   28  chaddr (16)
 *   44  sname (64)
 *   108 file (128)
 *   236 magic cookie
 *   240 options: code, length, value ... 255
 * </pre>
 */
final class DhcpMessage {
    static final int OP = 0;
    static final int HTYPE = 1;
    static final int HLEN = 2;
    static final int HOPS = 3;
    static final int XID = 4;
    static final int SECS = 8;
    static final int FLAGS = 10;
    static final int CIADDR = 12;
    static final int YIADDR = 16;
    static final int SIADDR = 20;
    static final int GIADDR = 24;
    static final int CHADDR = 28;
    static final int MAGIC_COOKIE = 236;
    static final int OPTIONS = 240;
    static final int COOKIE = 0x63825363;
    static final int FLAG_BROADCAST = 0x8000;
    static final int BOOTREQUEST = 1;
    static final int BOOTREPLY = 2;
    /** The shortest BOOTP message a relay or client must accept (RFC 1542 section 2.1). */
    static final int MIN_BYTES = 300;
    static final int SERVER_PORT = 67;
    static final int CLIENT_PORT = 68;

    static final int OPTION_PAD = 0;
    static final int OPTION_SUBNET_MASK = 1;
    static final int OPTION_ROUTER = 3;
    static final int OPTION_DNS = 6;
    static final int OPTION_REQUESTED_ADDRESS = 50;
    static final int OPTION_LEASE_TIME = 51;
    static final int OPTION_MESSAGE_TYPE = 53;
    static final int OPTION_SERVER_ID = 54;
    static final int OPTION_MESSAGE = 56;
    static final int OPTION_RENEWAL_TIME = 58;
    static final int OPTION_REBINDING_TIME = 59;
    static final int OPTION_CLIENT_ID = 61;
    static final int OPTION_END = 255;

    static final int DISCOVER = 1;
    static final int OFFER = 2;
    static final int REQUEST = 3;
    static final int DECLINE = 4;
    static final int ACK = 5;
    static final int NAK = 6;
    static final int RELEASE = 7;
    static final int INFORM = 8;

    private DhcpMessage() {
    }
}

package io.vioplane.tap.gateway;

import io.vioplane.platform.packet.Ethernet;

/**
 * An ARP packet for IPv4 over Ethernet (RFC 826), after the Ethernet header.
 *
 * <pre>
 *   0  hardware type (1 = Ethernet)
 *   2  protocol type (0x0800)
 *   4  hardware address length (6)
 *   5  protocol address length (4)
 *   6  operation (1 request, 2 reply)
 *   8  sender hardware address
 *   14 sender protocol address
 *   18 target hardware address
 *   24 target protocol address
 *   28
 * </pre>
 */
final class ArpPacket {
    static final int HARDWARE_TYPE = 0;
    static final int PROTOCOL_TYPE = 2;
    static final int HARDWARE_LENGTH = 4;
    static final int PROTOCOL_LENGTH = 5;
    static final int OPERATION = 6;
    static final int SENDER_MAC = 8;
    static final int SENDER_IP = 14;
    static final int TARGET_MAC = 18;
    static final int TARGET_IP = 24;
    static final int BYTES = 28;
    static final int REQUEST = 1;
    static final int REPLY = 2;

    private ArpPacket() {
    }
}

package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.Packets;
import java.io.ByteArrayOutputStream;

/** DHCP client messages for tests (RFC 2131 section 4.4 as a client sends them). */
final class Dhcp {
    private Dhcp() {
    }

    /** Option bytes: code, length, value. */
    static byte[] option(final int code, final byte... value) {
        final byte[] option = new byte[2 + value.length];
        option[0] = (byte) code;
        option[1] = (byte) value.length;
        System.arraycopy(value, 0, option, 2, value.length);
        return option;
    }

    static byte[] address(final int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    /** A BOOTREQUEST with {@code options} (end option added), from 0.0.0.0 (or {@code ciaddr}) to 255.255.255.255. */
    static byte[] message(final byte[] mac, final int xid, final boolean broadcastFlag, final int ciaddr,
                          final byte[]... options) {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final byte[] fixed = new byte[240];
        fixed[0] = 1;
        fixed[1] = 1;
        fixed[2] = 6;
        Packets.put32(fixed, 4, xid);
        Packets.put16(fixed, 10, broadcastFlag ? 0x8000 : 0);
        Packets.put32(fixed, 12, ciaddr);
        System.arraycopy(mac, 0, fixed, 28, 6);
        Packets.put32(fixed, 236, 0x63825363);
        body.writeBytes(fixed);
        for (byte[] option : options) {
            body.writeBytes(option);
        }
        body.write(255);
        while (body.size() < 300) {
            body.write(0);
        }
        return body.toByteArray();
    }

    static byte[] frame(final byte[] mac, final int source, final int destination, final byte[] dhcp) {
        final byte[] destinationMac = destination == -1 ? Packets.BROADCAST : GatewayHarness.GATEWAY_MAC;
        return new Packets.Ip().macs(destinationMac, mac).addresses(source, destination)
                .payload(Packets.UDP, Packets.udp(source, destination, 68, 67, dhcp, true)).frame();
    }

    static byte[] discover(final byte[] mac, final int xid, final boolean broadcastFlag, final byte[] clientId) {
        final byte[] type = option(53, (byte) 1);
        final byte[] dhcp = clientId == null ? message(mac, xid, broadcastFlag, 0, type)
                : message(mac, xid, broadcastFlag, 0, type, option(61, clientId));
        return frame(mac, 0, -1, dhcp);
    }

    /** A REQUEST in SELECTING state (server identifier and requested address). */
    static byte[] request(final byte[] mac, final int xid, final int requested, final int server,
                          final boolean broadcastFlag) {
        return frame(mac, 0, -1, message(mac, xid, broadcastFlag, 0, option(53, (byte) 3),
                option(50, address(requested)), option(54, address(server))));
    }

    /** A REQUEST in INIT-REBOOT state (requested address, no server identifier). */
    static byte[] rebootRequest(final byte[] mac, final int xid, final int requested) {
        return frame(mac, 0, -1, message(mac, xid, false, 0, option(53, (byte) 3), option(50, address(requested))));
    }

    /** A REQUEST in RENEWING state: unicast from ciaddr to the server, no option 50. */
    static byte[] renew(final byte[] mac, final int xid, final int ciaddr) {
        return frame(mac, ciaddr, GatewayHarness.GATEWAY, message(mac, xid, false, ciaddr, option(53, (byte) 3)));
    }

    static byte[] release(final byte[] mac, final int xid, final int ciaddr) {
        return frame(mac, ciaddr, GatewayHarness.GATEWAY, message(mac, xid, false, ciaddr, option(53, (byte) 7),
                option(54, address(GatewayHarness.GATEWAY))));
    }

    /** @return the message type (option 53) of a received DHCP frame, or -1 */
    static int messageType(final Packets.Parsed reply) {
        return option(reply, 53) == null ? -1 : option(reply, 53)[0] & 0xFF;
    }

    /** @return the value of option {@code code} in a received DHCP frame, or null */
    static byte[] option(final Packets.Parsed reply, final int code) {
        final byte[] frame = reply.frame();
        int at = reply.l4() + 8 + 240;
        final int end = reply.l4() + Packets.u16(frame, reply.l4() + 4);
        while (at < end) {
            final int c = frame[at] & 0xFF;
            if (c == 255) {
                return null;
            }
            if (c == 0) {
                at++;
                continue;
            }
            final int length = frame[at + 1] & 0xFF;
            if (c == code) {
                return java.util.Arrays.copyOfRange(frame, at + 2, at + 2 + length);
            }
            at += 2 + length;
        }
        return null;
    }
}

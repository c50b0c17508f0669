package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.GuestNeighbors;
import io.vioplane.tap.nat.Ipv4Packet;
import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.platform.packet.Checksums;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Header;
import io.vioplane.platform.packet.UdpHeader;
import io.vioplane.platform.packet.Wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's DHCP server (RFC 2131, options of RFC 2132) for the guest subnet; the only server on the
 * segment, so it is authoritative for it.
 *
 * <ul>
 *   <li>DISCOVER: offers the client's own address, else the one it asks for (option 50) if unused, else a free
 *       one ({@link DhcpLeases}), and holds it for the client; no free address: no offer (counted).</li>
 *   <li>REQUEST (4.3.2): SELECTING (server identifier present) acknowledges the offered address or NAKs any
 *       other; a request naming another server withdraws the offer silently. INIT-REBOOT (option 50, no
 *       identifier) acknowledges the client's own or an unused pool address and NAKs anything else of the
 *       subnet. RENEWING/REBINDING (ciaddr, no option 50) extends the client's lease or NAKs.</li>
 *   <li>DECLINE takes the address out of the pool for a while; RELEASE frees it (it stays the client's for
 *       reuse); INFORM gets the options without a lease.</li>
 * </ul>
 * Offers and acknowledgements carry the subnet mask (1), router (3), DNS server (6, when configured), lease
 * time (51), T1 and T2 (58, 59: half and 7/8 of the lease), the server identifier (54) and the client
 * identifier echoed (61, RFC 6842). Replies go where 4.1 says: broadcast when the client set the broadcast flag
 * (as busybox udhcpc does with -B) or for a NAK, to ciaddr when the client has one, else to yiaddr at chaddr.
 *
 * <p>Requests must come from the MAC they name (chaddr) and not through a relay (giaddr 0); malformed messages
 * (op, htype, hlen, cookie, option lengths) are dropped and counted.
 */
final class DhcpServer {
    private static final int NO_OPTION = -1;
    private static final int BOOTP_FIXED_BYTES = DhcpMessage.OPTIONS;
    private static final int MAX_CLIENT_ID_BYTES = 255;
    private static final long DECLINE_HOLD_FACTOR = 10;

    private final NatConfig config;
    private final DhcpLeases leases;
    private final GuestNeighbors neighbors;
    private final NatCounters counters;
    private final ReplyQueue replies;
    private final int gateway;
    private final long gatewayMac;
    private final long leaseNs;
    private int identification;

    private int messageType;
    private int requestedAddress;
    private int serverId;
    private long clientIdOffset;
    private int clientIdBytes;

    DhcpServer(final NatConfig config, final DhcpLeases leases, final GuestNeighbors neighbors,
               final NatCounters counters, final ReplyQueue replies) {
        this.config = config;
        this.leases = leases;
        this.neighbors = neighbors;
        this.counters = counters;
        this.replies = replies;
        this.gateway = config.gateway().value();
        this.gatewayMac = config.gatewayMac().value();
        this.leaseNs = TimeUnit.SECONDS.toNanos(config.leaseTimeSeconds());
    }

    /**
     * Serves a DHCP message: a checked UDP datagram to port 67 from the guest at {@code sourceMac}.
     */
    void handle(final Ipv4Packet packet, final long sourceMac, final long nowNs) {
        final MemorySegment frame = packet.frame;
        final long message = packet.l4 + UdpHeader.BYTES;
        final int messageBytes = packet.udpLength - UdpHeader.BYTES;
        if (packet.isFragment() || messageBytes < BOOTP_FIXED_BYTES
                || Wire.u8(frame, message + DhcpMessage.OP) != DhcpMessage.BOOTREQUEST
                || Wire.u8(frame, message + DhcpMessage.HTYPE) != 1 || Wire.u8(frame, message + DhcpMessage.HLEN) != 6
                || Wire.u32(frame, message + DhcpMessage.MAGIC_COOKIE) != DhcpMessage.COOKIE
                || !parseOptions(frame, message + DhcpMessage.OPTIONS, messageBytes - BOOTP_FIXED_BYTES)) {
            counters.drop(NatDrop.DHCP_MALFORMED);
            return;
        }
        if (Wire.mac(frame, message + DhcpMessage.CHADDR) != sourceMac) {
            counters.drop(NatDrop.DHCP_CHADDR_MISMATCH);
            return;
        }
        if (Wire.u32(frame, message + DhcpMessage.GIADDR) != 0) {
            counters.drop(NatDrop.DHCP_RELAYED);
            return;
        }
        final int ciaddr = Wire.u32(frame, message + DhcpMessage.CIADDR);
        switch (messageType) {
            case DhcpMessage.DISCOVER -> discover(packet, message, sourceMac, nowNs);
            case DhcpMessage.REQUEST -> request(packet, message, sourceMac, ciaddr, nowNs);
            case DhcpMessage.DECLINE -> decline(sourceMac, nowNs);
            case DhcpMessage.RELEASE -> release(sourceMac, ciaddr, nowNs);
            case DhcpMessage.INFORM -> inform(packet, message, sourceMac, ciaddr);
            default -> counters.drop(NatDrop.DHCP_IGNORED);
        }
    }

    private boolean parseOptions(final MemorySegment frame, final long options, final int optionBytes) {
        messageType = NO_OPTION;
        requestedAddress = 0;
        serverId = 0;
        clientIdBytes = 0;
        int at = 0;
        while (at < optionBytes) {
            final int code = Wire.u8(frame, options + at);
            if (code == DhcpMessage.OPTION_END) {
                break;
            }
            if (code == DhcpMessage.OPTION_PAD) {
                at++;
                continue;
            }
            if (at + 2 > optionBytes) {
                return false;
            }
            final int length = Wire.u8(frame, options + at + 1);
            final long value = options + at + 2;
            if (at + 2 + length > optionBytes) {
                return false;
            }
            switch (code) {
                case DhcpMessage.OPTION_MESSAGE_TYPE -> {
                    if (length != 1) {
                        return false;
                    }
                    messageType = Wire.u8(frame, value);
                }
                case DhcpMessage.OPTION_REQUESTED_ADDRESS -> {
                    if (length != 4) {
                        return false;
                    }
                    requestedAddress = Wire.u32(frame, value);
                }
                case DhcpMessage.OPTION_SERVER_ID -> {
                    if (length != 4) {
                        return false;
                    }
                    serverId = Wire.u32(frame, value);
                }
                case DhcpMessage.OPTION_CLIENT_ID -> {
                    if (length < 2) {
                        return false;
                    }
                    clientIdOffset = value;
                    clientIdBytes = length;
                }
                default -> {
                }
            }
            at += 2 + length;
        }
        return messageType != NO_OPTION;
    }

    private void discover(final Ipv4Packet packet, final long message, final long mac, final long nowNs) {
        final int index = leases.choose(mac, requestedAddress, nowNs);
        if (index < 0) {
            counters.drop(NatDrop.DHCP_POOL_EXHAUSTED);
            return;
        }
        leases.offer(index, mac, clientId(packet.frame), nowNs + config.timeouts().dhcpOfferHoldNs());
        if (reply(packet, message, mac, DhcpMessage.OFFER, leases.address(index), 0)) {
            counters.count(NatEvent.DHCP_OFFERS);
        }
    }

    private void request(final Ipv4Packet packet, final long message, final long mac, final int ciaddr,
                         final long nowNs) {
        final int wanted;
        if (serverId != 0) {
            if (serverId != gateway) {
                final int offered = leases.indexOfMac(mac);
                if (offered >= 0 && leases.state(offered) == DhcpLeases.OFFERED) {
                    leases.release(offered, nowNs);
                }
                counters.drop(NatDrop.DHCP_IGNORED);
                return;
            }
            wanted = requestedAddress != 0 ? requestedAddress : ciaddr;
        } else if (requestedAddress != 0) {
            wanted = requestedAddress;
        } else {
            wanted = ciaddr;
        }
        final int index = leases.indexOf(wanted);
        final boolean renewing = serverId == 0 && requestedAddress == 0;
        final boolean acceptable = index >= 0
                && (renewing ? leases.mac(index) == mac && leases.state(index) != DhcpLeases.DECLINED
                : leases.availableTo(index, mac, nowNs));
        if (!acceptable) {
            if (reply(packet, message, mac, DhcpMessage.NAK, 0, 0)) {
                counters.count(NatEvent.DHCP_NAKS);
            }
            return;
        }
        leases.bind(index, mac, clientId(packet.frame), nowNs + leaseNs);
        neighbors.learn(wanted, mac);
        if (reply(packet, message, mac, DhcpMessage.ACK, wanted, ciaddr)) {
            counters.count(NatEvent.DHCP_ACKS);
        }
    }

    private void decline(final long mac, final long nowNs) {
        final int index = leases.indexOf(requestedAddress);
        if (serverId != gateway || index < 0 || leases.mac(index) != mac) {
            counters.drop(NatDrop.DHCP_IGNORED);
            return;
        }
        leases.decline(index, nowNs + DECLINE_HOLD_FACTOR * config.timeouts().dhcpOfferHoldNs());
        neighbors.forget(leases.address(index), mac);
        counters.count(NatEvent.DHCP_DECLINES);
    }

    private void release(final long mac, final int ciaddr, final long nowNs) {
        final int index = leases.indexOf(ciaddr);
        if (index < 0 || leases.mac(index) != mac) {
            counters.drop(NatDrop.DHCP_IGNORED);
            return;
        }
        leases.release(index, nowNs);
        neighbors.forget(ciaddr, mac);
        counters.count(NatEvent.DHCP_RELEASES);
    }

    private void inform(final Ipv4Packet packet, final long message, final long mac, final int ciaddr) {
        if (ciaddr == 0 || !config.guestSubnet().contains(ciaddr)) {
            counters.drop(NatDrop.DHCP_MALFORMED);
            return;
        }
        if (reply(packet, message, mac, DhcpMessage.ACK, 0, ciaddr)) {
            counters.count(NatEvent.DHCP_ACKS);
        }
    }

    private byte[] clientId(final MemorySegment frame) {
        if (clientIdBytes == 0) {
            return null;
        }
        final byte[] id = new byte[Math.min(clientIdBytes, MAX_CLIENT_ID_BYTES)];
        MemorySegment.copy(frame, ValueLayout.JAVA_BYTE, clientIdOffset, id, 0, id.length);
        return id;
    }

    /**
     * Builds a reply into the reply queue.
     *
     * @param yiaddr the address given (0 for NAK and INFORM)
     * @param ciaddr the client's address echoed (renewals, INFORM), or 0
     * @return true if queued
     */
    private boolean reply(final Ipv4Packet request, final long message, final long clientMac, final int type,
                          final int yiaddr, final int ciaddr) {
        final int leaseOptionsBytes = 3 * 6;
        final int networkOptionsBytes = 2 * 6 + (config.dnsServer() != null ? 6 : 0);
        final int optionsBytes = 3 + 6 + (type == DhcpMessage.NAK ? 0 : leaseOptionsBytes + networkOptionsBytes)
                + (clientIdBytes > 0 ? 2 + clientIdBytes : 0) + 1;
        final int bootpBytes = Math.max(DhcpMessage.MIN_BYTES, BOOTP_FIXED_BYTES + optionsBytes);
        final int udpBytes = UdpHeader.BYTES + bootpBytes;
        final int ipBytes = Ipv4Header.MIN_BYTES + udpBytes;
        final int frameBytes = Ethernet.HEADER_BYTES + ipBytes;
        if (!replies.reserve(frameBytes)) {
            return false;
        }
        final MemorySegment out = replies.memory();
        final long at = replies.offset();
        final MemorySegment in = request.frame;
        final int flags = Wire.u16(in, message + DhcpMessage.FLAGS);
        final boolean broadcast = type == DhcpMessage.NAK || ciaddr == 0 && (flags & DhcpMessage.FLAG_BROADCAST) != 0;
        final int destination = broadcast ? -1 : ciaddr != 0 ? ciaddr : yiaddr;
        FrameBuilder.ethernet(out, at, broadcast ? Wire.BROADCAST_MAC : clientMac, gatewayMac, Ethernet.TYPE_IPV4);
        final long ip = at + Ethernet.HEADER_BYTES;
        final long l4 = ip + Ipv4Header.MIN_BYTES;
        final long bootp = l4 + UdpHeader.BYTES;
        FrameBuilder.zero(out, bootp, bootpBytes);
        Wire.u8(out, bootp + DhcpMessage.OP, DhcpMessage.BOOTREPLY);
        Wire.u8(out, bootp + DhcpMessage.HTYPE, 1);
        Wire.u8(out, bootp + DhcpMessage.HLEN, 6);
        Wire.u32(out, bootp + DhcpMessage.XID, Wire.u32(in, message + DhcpMessage.XID));
        Wire.u16(out, bootp + DhcpMessage.FLAGS, flags);
        Wire.u32(out, bootp + DhcpMessage.CIADDR, type == DhcpMessage.NAK ? 0 : ciaddr);
        Wire.u32(out, bootp + DhcpMessage.YIADDR, yiaddr);
        MemorySegment.copy(in, message + DhcpMessage.CHADDR, out, bootp + DhcpMessage.CHADDR, 16);
        Wire.u32(out, bootp + DhcpMessage.MAGIC_COOKIE, DhcpMessage.COOKIE);
        long option = bootp + DhcpMessage.OPTIONS;
        option = byteOption(out, option, DhcpMessage.OPTION_MESSAGE_TYPE, type);
        option = addressOption(out, option, DhcpMessage.OPTION_SERVER_ID, gateway);
        if (type != DhcpMessage.NAK) {
            if (yiaddr != 0) {
                final long leaseSeconds = config.leaseTimeSeconds();
                option = addressOption(out, option, DhcpMessage.OPTION_LEASE_TIME, (int) leaseSeconds);
                option = addressOption(out, option, DhcpMessage.OPTION_RENEWAL_TIME, (int) (leaseSeconds / 2));
                option = addressOption(out, option, DhcpMessage.OPTION_REBINDING_TIME, (int) (leaseSeconds * 7 / 8));
            }
            option = addressOption(out, option, DhcpMessage.OPTION_SUBNET_MASK, config.guestSubnet().mask());
            option = addressOption(out, option, DhcpMessage.OPTION_ROUTER, gateway);
            if (config.dnsServer() != null) {
                option = addressOption(out, option, DhcpMessage.OPTION_DNS, config.dnsServer().value());
            }
        }
        if (clientIdBytes > 0) {
            Wire.u8(out, option, DhcpMessage.OPTION_CLIENT_ID);
            Wire.u8(out, option + 1, clientIdBytes);
            MemorySegment.copy(in, clientIdOffset, out, option + 2, clientIdBytes);
            option += 2 + clientIdBytes;
        }
        Wire.u8(out, option, DhcpMessage.OPTION_END);
        FrameBuilder.udp(out, l4, DhcpMessage.SERVER_PORT, DhcpMessage.CLIENT_PORT, udpBytes);
        FrameBuilder.ipv4(out, ip, ipBytes, identification++ & 0xFFFF, IpProtocol.UDP, gateway, destination);
        Checksums.fillTransport(out, l4, udpBytes, gateway, destination, IpProtocol.UDP);
        replies.commit(frameBytes);
        return true;
    }

    private static long byteOption(final MemorySegment out, final long at, final int code, final int value) {
        Wire.u8(out, at, code);
        Wire.u8(out, at + 1, 1);
        Wire.u8(out, at + 2, value);
        return at + 3;
    }

    private static long addressOption(final MemorySegment out, final long at, final int code, final int value) {
        Wire.u8(out, at, code);
        Wire.u8(out, at + 1, 4);
        Wire.u32(out, at + 2, value);
        return at + 6;
    }
}

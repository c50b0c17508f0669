package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.Packets;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The gateway's DHCP server (RFC 2131/2132) against test guests on a real bridge: the exchange byte by byte,
 * lease reuse, NAKs, the broadcast flag, the client identifier, release, decline, inform, and every malformed or
 * hostile message counted.
 */
class DhcpServerTest {
    private static final int DNS = ip("192.0.2.53");
    private GatewayHarness harness;

    private GatewayHarness start(final int guests) {
        harness = GatewayHarness.hostOnly(NatConfig.builder().dnsServer(new Ipv4Address(DNS)), guests);
        return harness;
    }

    @AfterEach
    void tearDown() {
        if (harness != null) {
            harness.close();
        }
    }

    private static int yiaddr(final Packets.Parsed reply) {
        return Packets.u32(reply.frame(), reply.l4() + 8 + DhcpMessage.YIADDR);
    }

    @Test
    void discoverGetsAnOfferOfTheFirstAddressWithEveryOptionByteForByte() {
        final GatewayHarness h = start(1);
        final byte[] clientId = {1, 2, 0, 0, 0, 0, 1};
        h.send(0, Dhcp.discover(h.mac(0), 0xCAFE_F00D, false, clientId));
        final Packets.Parsed offer = Packets.Parsed.of(h.single(0));
        final byte[] f = offer.frame();
        assertEquals(MacAddress.of(h.mac(0)).value(), offer.destinationMac(), "no broadcast flag: unicast to chaddr");
        assertEquals(MacAddress.of(GatewayHarness.GATEWAY_MAC).value(), offer.sourceMac());
        assertEquals(GatewayHarness.GATEWAY, offer.source());
        assertEquals(ip("10.0.2.15"), offer.destination(), "RFC 2131 4.1: unicast to yiaddr");
        assertEquals(Packets.UDP, offer.protocol());
        assertEquals(67, offer.sourcePort());
        assertEquals(68, offer.destinationPort());
        assertTrue(offer.ipChecksumValid());
        assertTrue(offer.transportChecksumValid(), "UDP checksum over the pseudo-header");
        assertNotEquals(0, Packets.u16(f, offer.l4() + 6), "the UDP checksum is filled");
        final int bootp = offer.l4() + 8;
        assertTrue(Packets.u16(f, offer.l4() + 4) - 8 >= 300, "RFC 1542: at least 300 bytes of BOOTP");
        assertEquals(2, f[bootp], "op BOOTREPLY");
        assertEquals(1, f[bootp + 1], "htype Ethernet");
        assertEquals(6, f[bootp + 2], "hlen 6");
        assertEquals(0xCAFE_F00D, Packets.u32(f, bootp + 4), "xid echoed");
        assertEquals(0, Packets.u32(f, bootp + 12), "ciaddr 0 in an offer");
        assertEquals(ip("10.0.2.15"), yiaddr(offer), "the first guest address, as QEMU's user networking gives");
        assertArrayEquals(h.mac(0), java.util.Arrays.copyOfRange(f, bootp + 28, bootp + 34), "chaddr echoed");
        assertEquals(0x63825363, Packets.u32(f, bootp + 236), "magic cookie");
        assertEquals(DhcpMessage.OFFER, Dhcp.messageType(offer));
        assertArrayEquals(Dhcp.address(GatewayHarness.GATEWAY), Dhcp.option(offer, 54), "server identifier");
        assertArrayEquals(Dhcp.address(86_400), Dhcp.option(offer, 51), "lease time one day");
        assertArrayEquals(Dhcp.address(43_200), Dhcp.option(offer, 58), "T1 half the lease");
        assertArrayEquals(Dhcp.address(75_600), Dhcp.option(offer, 59), "T2 7/8 of the lease");
        assertArrayEquals(Dhcp.address(ip("255.255.255.0")), Dhcp.option(offer, 1), "subnet mask");
        assertArrayEquals(Dhcp.address(GatewayHarness.GATEWAY), Dhcp.option(offer, 3), "router");
        assertArrayEquals(Dhcp.address(DNS), Dhcp.option(offer, 6), "the DNS server given");
        assertArrayEquals(clientId, Dhcp.option(offer, 61), "client identifier echoed (RFC 6842)");
        assertEquals(1, h.counters().events(NatEvent.DHCP_OFFERS));
    }

    @Test
    void requestForTheOfferedAddressIsAcknowledgedAndTheLeaseRecorded() {
        final GatewayHarness h = start(1);
        h.send(0, Dhcp.discover(h.mac(0), 7, false, null));
        final int offered = yiaddr(Packets.Parsed.of(h.single(0)));
        h.send(0, Dhcp.request(h.mac(0), 7, offered, GatewayHarness.GATEWAY, false));
        final Packets.Parsed ack = Packets.Parsed.of(h.single(0));
        assertEquals(DhcpMessage.ACK, Dhcp.messageType(ack));
        assertEquals(offered, yiaddr(ack));
        assertEquals(7, Packets.u32(ack.frame(), ack.l4() + 8 + 4));
        assertTrue(ack.transportChecksumValid());
        assertArrayEquals(Dhcp.address(86_400), Dhcp.option(ack, 51));
        assertNull(Dhcp.option(ack, 61), "no client identifier sent, none echoed");
        assertEquals(new Ipv4Address(offered), h.gateway.leaseOf(MacAddress.of(h.mac(0))));
        assertEquals(1, h.counters().events(NatEvent.DHCP_ACKS));
    }

    @Test
    void theBroadcastFlagMakesRepliesBroadcast() {
        final GatewayHarness h = start(1);
        h.send(0, Dhcp.discover(h.mac(0), 9, true, null));
        final Packets.Parsed offer = Packets.Parsed.of(h.single(0));
        assertEquals(0xFFFF_FFFF_FFFFL, offer.destinationMac(), "broadcast flag: to ff:ff:ff:ff:ff:ff");
        assertEquals(-1, offer.destination(), "... and 255.255.255.255");
        assertEquals(0x8000, Packets.u16(offer.frame(), offer.l4() + 8 + 10), "flags echoed");
        h.send(0, Dhcp.request(h.mac(0), 9, yiaddr(offer), GatewayHarness.GATEWAY, true));
        final Packets.Parsed ack = Packets.Parsed.of(h.single(0));
        assertEquals(-1, ack.destination());
        assertEquals(DhcpMessage.ACK, Dhcp.messageType(ack));
    }

    @Test
    void twoGuestsGetDifferentAddressesAndEachKeepsItsOwnAcrossDiscoversAndRelease() {
        final GatewayHarness h = start(2);
        final int first = h.lease(0);
        final int second = h.lease(1);
        assertEquals(ip("10.0.2.15"), first);
        assertEquals(ip("10.0.2.16"), second);
        h.send(0, Dhcp.discover(h.mac(0), 11, false, null));
        assertEquals(first, yiaddr(Packets.Parsed.of(h.single(0))), "a known client is offered its lease again");
        h.send(0, Dhcp.release(h.mac(0), 12, first));
        assertEquals(1, h.counters().events(NatEvent.DHCP_RELEASES));
        assertNull(h.gateway.leaseOf(MacAddress.of(h.mac(0))), "released");
        h.send(0, Dhcp.discover(h.mac(0), 13, false, null));
        assertEquals(first, yiaddr(Packets.Parsed.of(h.single(0))), "after release, the same address is reused");
        h.send(1, Dhcp.discover(h.mac(1), 14, false, null));
        assertEquals(second, yiaddr(Packets.Parsed.of(h.single(1))));
    }

    @Test
    void aRequestForAnAddressOtherThanTheOfferGetsANak() {
        final GatewayHarness h = start(1);
        h.send(0, Dhcp.discover(h.mac(0), 21, false, null));
        h.single(0);
        h.send(0, Dhcp.request(h.mac(0), 21, ip("10.0.2.99"), GatewayHarness.GATEWAY, false));
        final Packets.Parsed nak = Packets.Parsed.of(h.single(0));
        assertEquals(DhcpMessage.NAK, Dhcp.messageType(nak));
        assertEquals(-1, nak.destination(), "RFC 2131 4.3.2: a NAK is broadcast");
        assertEquals(0xFFFF_FFFF_FFFFL, nak.destinationMac());
        assertEquals(0, yiaddr(nak));
        assertNull(Dhcp.option(nak, 51), "no lease time in a NAK");
        assertArrayEquals(Dhcp.address(GatewayHarness.GATEWAY), Dhcp.option(nak, 54));
        assertTrue(nak.transportChecksumValid());
        assertEquals(1, h.counters().events(NatEvent.DHCP_NAKS));
        assertNull(h.gateway.leaseOf(MacAddress.of(h.mac(0))));
    }

    @Test
    void initRebootWithTheLeasedAddressIsAckedAndWithAnotherGuestsAddressIsNaked() {
        final GatewayHarness h = start(2);
        final int first = h.lease(0);
        final int second = h.lease(1);
        h.send(0, Dhcp.rebootRequest(h.mac(0), 31, first));
        assertEquals(DhcpMessage.ACK, Dhcp.messageType(Packets.Parsed.of(h.single(0))));
        h.send(0, Dhcp.rebootRequest(h.mac(0), 32, second));
        assertEquals(DhcpMessage.NAK, Dhcp.messageType(Packets.Parsed.of(h.single(0))), "someone else's address");
        h.send(0, Dhcp.rebootRequest(h.mac(0), 33, ip("10.0.2.200")));
        assertEquals(DhcpMessage.NAK, Dhcp.messageType(Packets.Parsed.of(h.single(0))),
                "outside the pool of a subnet the server is authoritative for");
    }

    @Test
    void renewalIsUnicastToCiaddrAndExtendsTheLease() {
        final GatewayHarness h = start(1);
        final int leased = h.lease(0);
        h.send(0, Dhcp.renew(h.mac(0), 41, leased));
        final Packets.Parsed ack = Packets.Parsed.of(h.single(0));
        assertEquals(DhcpMessage.ACK, Dhcp.messageType(ack));
        assertEquals(leased, ack.destination(), "RFC 2131 4.1: to ciaddr");
        assertEquals(leased, Packets.u32(ack.frame(), ack.l4() + 8 + 12), "ciaddr echoed");
        assertEquals(leased, yiaddr(ack));
    }

    @Test
    void aRequestNamingAnotherServerWithdrawsTheOfferSilently() {
        final GatewayHarness h = start(1);
        h.send(0, Dhcp.discover(h.mac(0), 51, false, null));
        h.single(0);
        h.send(0, Dhcp.request(h.mac(0), 51, ip("10.0.2.15"), ip("10.0.2.3"), false));
        assertEquals(0, h.fromGateway(0).size(), "no reply to a request for another server");
        assertEquals(1, h.counters().drops(NatDrop.DHCP_IGNORED));
    }

    @Test
    void aPoolOfOneIsExhaustedByTheSecondClientAndCounted() {
        harness = GatewayHarness.hostOnly(NatConfig.builder().leasePoolSize(1), 2);
        harness.lease(0);
        harness.send(1, Dhcp.discover(harness.mac(1), 61, false, null));
        assertEquals(0, harness.fromGateway(1).size());
        assertEquals(1, harness.counters().drops(NatDrop.DHCP_POOL_EXHAUSTED));
    }

    @Test
    void hostileChaddrDifferentFromTheFrameSourceIsDropped() {
        final GatewayHarness h = start(1);
        final byte[] other = Packets.mac("02:66:66:66:66:66");
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, Dhcp.message(other, 1, false, 0, Dhcp.option(53, (byte) 1))));
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(1, h.counters().drops(NatDrop.DHCP_CHADDR_MISMATCH),
                "a guest cannot drain the pool with invented hardware addresses");
    }

    @Test
    void hostileOptionLengthRunningPastTheMessageIsDropped() {
        final GatewayHarness h = start(1);
        final byte[] dhcp = Dhcp.message(h.mac(0), 1, false, 0, Dhcp.option(53, (byte) 1));
        dhcp[243] = 61;
        dhcp[244] = (byte) 200;
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, java.util.Arrays.copyOf(dhcp, 260)));
        assertEquals(1, h.counters().drops(NatDrop.DHCP_MALFORMED));
        assertEquals(0, h.fromGateway(0).size());
    }

    @Test
    void hostileBadMagicCookieWrongOpAndMissingTypeAreDropped() {
        final GatewayHarness h = start(1);
        final byte[] badCookie = Dhcp.message(h.mac(0), 1, false, 0, Dhcp.option(53, (byte) 1));
        badCookie[236] = 0;
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, badCookie));
        final byte[] reply = Dhcp.message(h.mac(0), 1, false, 0, Dhcp.option(53, (byte) 1));
        reply[0] = 2;
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, reply));
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, Dhcp.message(h.mac(0), 1, false, 0)));
        final byte[] shortMessage = java.util.Arrays.copyOf(Dhcp.message(h.mac(0), 1, false, 0), 200);
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, shortMessage));
        assertEquals(4, h.counters().drops(NatDrop.DHCP_MALFORMED));
        assertEquals(0, h.fromGateway(0).size());
    }

    @Test
    void hostileRelayedMessageIsDropped() {
        final GatewayHarness h = start(1);
        final byte[] relayed = Dhcp.message(h.mac(0), 1, false, 0, Dhcp.option(53, (byte) 1));
        Packets.put32(relayed, 24, ip("10.9.9.9"));
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, relayed));
        assertEquals(1, h.counters().drops(NatDrop.DHCP_RELAYED));
    }

    @Test
    void hostileBadUdpChecksumOnADiscoverIsDropped() {
        final GatewayHarness h = start(1);
        final byte[] frame = Dhcp.discover(h.mac(0), 1, false, null);
        frame[14 + 20 + 8 + 100] ^= 0x5A;
        h.send(0, frame);
        assertEquals(1, h.counters().drops(NatDrop.L4_BAD_CHECKSUM));
        assertEquals(0, h.fromGateway(0).size());
    }

    @Test
    void aDeclinedAddressIsNotOfferedAgain() {
        final GatewayHarness h = start(1);
        final int leased = h.lease(0);
        h.send(0, Dhcp.frame(h.mac(0), 0, -1, Dhcp.message(h.mac(0), 71, false, 0, Dhcp.option(53, (byte) 4),
                Dhcp.option(50, Dhcp.address(leased)), Dhcp.option(54, Dhcp.address(GatewayHarness.GATEWAY)))));
        assertEquals(1, h.counters().events(NatEvent.DHCP_DECLINES));
        h.send(0, Dhcp.discover(h.mac(0), 72, false, null));
        final int next = yiaddr(Packets.Parsed.of(h.single(0)));
        assertNotEquals(leased, next, "a declined address is out of the pool for a while");
    }

    @Test
    void informGetsOptionsWithoutALease() {
        final GatewayHarness h = start(1);
        final int address = ip("10.0.2.15");
        h.send(0, Dhcp.frame(h.mac(0), address, GatewayHarness.GATEWAY,
                Dhcp.message(h.mac(0), 81, false, address, Dhcp.option(53, (byte) 8))));
        final Packets.Parsed ack = Packets.Parsed.of(h.single(0));
        assertEquals(DhcpMessage.ACK, Dhcp.messageType(ack));
        assertEquals(0, yiaddr(ack));
        assertNull(Dhcp.option(ack, 51), "RFC 2131 4.3.5: no lease time for INFORM");
        assertArrayEquals(Dhcp.address(GatewayHarness.GATEWAY), Dhcp.option(ack, 3));
    }

    @Test
    void anExpiredOfferGoesToTheNextClientWhenThePoolIsFull() {
        harness = GatewayHarness.hostOnly(NatConfig.builder().leasePoolSize(1), 2);
        final GatewayHarness h = harness;
        h.send(0, Dhcp.discover(h.mac(0), 91, false, null));
        h.single(0);
        h.send(1, Dhcp.discover(h.mac(1), 92, false, null));
        assertEquals(List.of(), h.fromGateway(1), "held for the first client");
        h.clock.addAndGet(h.config.timeouts().dhcpOfferHoldNs());
        h.send(1, Dhcp.discover(h.mac(1), 93, false, null));
        assertEquals(ip("10.0.2.15"), yiaddr(Packets.Parsed.of(h.single(1))), "the hold expired");
    }
}

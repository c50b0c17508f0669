package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.Packets;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The gateway as guests see it, in host-only mode: ARP for the gateway address (RFC 826), ICMP echo (RFC 792),
 * and nothing forwarded beyond the gateway; every refusal counted.
 */
class GatewayTest {
    private GatewayHarness harness;

    @AfterEach
    void tearDown() {
        if (harness != null) {
            harness.close();
        }
    }

    private GatewayHarness start(final NatConfig.Builder builder, final int guests) {
        harness = GatewayHarness.hostOnly(builder, guests);
        return harness;
    }

    @Test
    void arpForTheGatewayIsAnsweredWithTheVirtualMacByteForByte() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, Packets.arp(1, Packets.BROADCAST, h.mac(0), guest, new byte[6], GatewayHarness.GATEWAY));
        final byte[] reply = h.single(0);
        assertEquals(60, reply.length, "padded to the Ethernet minimum");
        assertArrayEquals(h.mac(0), Arrays.copyOfRange(reply, 0, 6), "unicast to the asker");
        assertArrayEquals(GatewayHarness.GATEWAY_MAC, Arrays.copyOfRange(reply, 6, 12));
        assertEquals(0x0806, Packets.u16(reply, 12));
        assertArrayEquals(new byte[] {0, 1, 8, 0, 6, 4, 0, 2}, Arrays.copyOfRange(reply, 14, 22),
                "Ethernet/IPv4 reply");
        assertArrayEquals(GatewayHarness.GATEWAY_MAC, Arrays.copyOfRange(reply, 22, 28), "sender: the gateway MAC");
        assertEquals(GatewayHarness.GATEWAY, Packets.u32(reply, 28), "sender: the gateway address");
        assertArrayEquals(h.mac(0), Arrays.copyOfRange(reply, 32, 38), "target: the asker");
        assertEquals(guest, Packets.u32(reply, 38));
        assertArrayEquals(new byte[18], Arrays.copyOfRange(reply, 42, 60), "zero padding");
        assertEquals(1, h.counters().events(NatEvent.GUEST_ARP_REPLIES));
    }

    @Test
    void arpProbeForTheGatewayAddressIsDefended() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        h.send(0, Packets.arp(1, Packets.BROADCAST, h.mac(0), 0, new byte[6], GatewayHarness.GATEWAY));
        final byte[] reply = h.single(0);
        assertEquals(2, Packets.u16(reply, 20), "RFC 5227: a probe for the gateway's address is answered");
    }

    @Test
    void arpForOtherAddressesIsLeftToTheGuests() {
        final GatewayHarness h = start(NatConfig.builder(), 2);
        final int guest = h.lease(0);
        h.send(0, Packets.arp(1, Packets.BROADCAST, h.mac(0), guest, new byte[6], ip("10.0.2.16")));
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(0, h.counters().totalDrops(), "ARP between guests is not a drop");
        assertEquals(1, h.counters().events(NatEvent.GUEST_ARP_OTHER), "but it is counted (found by NatFramesFuzzTest:"
                + " it left no count at all)");
    }

    @Test
    void hostileArpClaimingTheGatewayAddressIsDroppedAndNotAnswered() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        h.send(0, Packets.arp(1, Packets.BROADCAST, h.mac(0), GatewayHarness.GATEWAY, new byte[6],
                GatewayHarness.GATEWAY));
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(1, h.counters().drops(NatDrop.ARP_SPOOFED));
    }

    @Test
    void hostileArpWithASenderMacOtherThanTheFrameSourceIsDropped() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final byte[] frame = Packets.arp(1, Packets.BROADCAST, h.mac(0), guest, new byte[6], GatewayHarness.GATEWAY);
        frame[22 + 5] ^= 0x40;
        h.send(0, frame);
        assertEquals(1, h.counters().drops(NatDrop.ARP_SPOOFED));
    }

    @Test
    void hostileArpWithAnUnleasedSenderAddressIsDroppedWhenLeasesAreEnforced() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        h.send(0, Packets.arp(1, Packets.BROADCAST, h.mac(0), ip("10.0.2.77"), new byte[6], GatewayHarness.GATEWAY));
        assertEquals(1, h.counters().drops(NatDrop.ARP_SPOOFED));
    }

    @Test
    void hostileMalformedArpIsDropped() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final byte[] badOperation = Packets.arp(9, Packets.BROADCAST, h.mac(0), 0, new byte[6], GatewayHarness.GATEWAY);
        h.send(0, badOperation);
        final byte[] badLengths = Packets.arp(1, Packets.BROADCAST, h.mac(0), 0, new byte[6], GatewayHarness.GATEWAY);
        badLengths[18] = 8;
        h.send(0, badLengths);
        assertEquals(2, h.counters().drops(NatDrop.ARP_MALFORMED));
        h.send(0, Arrays.copyOf(Packets.arp(1, Packets.BROADCAST, h.mac(0), 0, new byte[6], GatewayHarness.GATEWAY),
                30));
        assertEquals(1, h.counters().drops(NatDrop.FRAME_TOO_SHORT), "an ARP frame cut short");
        assertEquals(0, h.fromGateway(0).size());
    }

    @Test
    void pingToTheGatewayIsAnsweredWithAValidEchoReply() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final byte[] data = "abcdefghijklmnopqrstuvwxyz0123456789".getBytes();
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(guest, GatewayHarness.GATEWAY)
                .payload(Packets.ICMP, Packets.icmpEcho(8, 0x4242, 7, data)).frame());
        final Packets.Parsed reply = Packets.Parsed.of(h.single(0));
        assertEquals(GatewayHarness.GATEWAY, reply.source());
        assertEquals(guest, reply.destination());
        assertEquals(MacAddress.of(h.mac(0)).value(), reply.destinationMac());
        assertEquals(0, reply.icmpType(), "echo reply");
        assertEquals(0x4242, reply.sourcePort(), "identifier kept");
        assertEquals(7, Packets.u16(reply.frame(), reply.l4() + 6), "sequence kept");
        assertArrayEquals(data, Arrays.copyOfRange(reply.frame(), reply.l4() + 8, reply.l4() + 8 + data.length));
        assertTrue(reply.ipChecksumValid());
        assertTrue(reply.transportChecksumValid(), "ICMP checksum verifies from scratch");
        assertEquals(1, h.counters().events(NatEvent.ICMP_ECHO_REPLIES));
    }

    @Test
    void hostileEchoWithABadIcmpChecksumIsDropped() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final byte[] echo = Packets.icmpEcho(8, 1, 1, new byte[16]);
        echo[2] ^= 1;
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(guest, GatewayHarness.GATEWAY)
                .payload(Packets.ICMP, echo).frame());
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(1, h.counters().drops(NatDrop.L4_BAD_CHECKSUM));
    }

    @Test
    void hostileEchoFromAnUnleasedAddressIsDropped() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(ip("10.0.2.40"),
                GatewayHarness.GATEWAY)
                .payload(Packets.ICMP, Packets.icmpEcho(8, 1, 1, new byte[8])).frame());
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(1, h.counters().drops(NatDrop.SPOOFED_SOURCE));
    }

    @Test
    void withoutEnforcementAnyAddressOfTheSubnetMayPingButNotOneOutsideIt() {
        final GatewayHarness h = start(NatConfig.builder().enforceLeasedSource(false), 1);
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(ip("10.0.2.40"),
                GatewayHarness.GATEWAY)
                .payload(Packets.ICMP, Packets.icmpEcho(8, 1, 1, new byte[8])).frame());
        assertEquals(1, h.fromGateway(0).size(), "a statically configured guest is answered");
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(ip("10.0.7.40"),
                GatewayHarness.GATEWAY)
                .payload(Packets.ICMP, Packets.icmpEcho(8, 1, 1, new byte[8])).frame());
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(1, h.counters().drops(NatDrop.SOURCE_OUTSIDE_SUBNET));
    }

    @Test
    void hostOnlyForwardsNothingBeyondTheGateway() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(guest, ip("192.0.2.1"))
                .payload(Packets.TCP, Packets.tcp(guest, ip("192.0.2.1"), 40000, 80, 1, 0, Packets.SYN,
                        new byte[0])).frame());
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(guest, ip("192.0.2.1"))
                .payload(Packets.ICMP, Packets.icmpEcho(8, 1, 1, new byte[8])).frame());
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(2, h.counters().drops(NatDrop.HOST_ONLY));
        assertEquals(0, h.gateway.connectionCount());
    }

    @Test
    void otherServicesOfTheGatewayAndBroadcastsAreDroppedAndCounted() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, h.mac(0)).addresses(guest, GatewayHarness.GATEWAY)
                .payload(Packets.TCP, Packets.tcp(guest, GatewayHarness.GATEWAY, 40000, 22, 1, 0, Packets.SYN,
                        new byte[0]))
                .frame());
        assertEquals(1, h.counters().drops(NatDrop.TO_GATEWAY_UNSERVED));
        h.send(0, new Packets.Ip().macs(Packets.BROADCAST, h.mac(0)).addresses(guest, ip("10.0.2.255"))
                .payload(Packets.UDP, Packets.udp(guest, ip("10.0.2.255"), 137, 137, new byte[10], true)).frame());
        assertEquals(1, h.counters().drops(NatDrop.NOT_ROUTED_BROADCAST));
        h.send(0, Packets.ethernet(Packets.BROADCAST, h.mac(0), 0x86DD, new byte[60]));
        assertEquals(1, h.counters().drops(NatDrop.UNSUPPORTED_ETHERTYPE), "IPv6 is not served");
    }

    @Test
    void unicastFramesForOtherGuestsFloodedToTheGatewayAreIgnored() {
        final GatewayHarness h = start(NatConfig.builder(), 2);
        h.send(0, Packets.ethernet(Packets.mac("02:00:00:00:00:09"), h.mac(0), 0x0800, new byte[100]));
        assertEquals(1, h.counters().drops(NatDrop.NOT_FOR_GATEWAY_MAC));
    }
}

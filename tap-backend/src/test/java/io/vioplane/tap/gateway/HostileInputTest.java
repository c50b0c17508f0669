package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.Packets;
import io.vioplane.tap.nat.PortForward;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

import static io.vioplane.tap.gateway.GatewayHarness.*;
import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The hostile-input catalogue of the NAT gateway: every malformed, spoofed or abusive frame, from a guest or from
 * the host side, is dropped with exactly its named counter, nothing is forwarded, and nothing throws. Each case is
 * a named regression test; two random mutation runs check that no input at all escapes the accounting.
 */
class HostileInputTest {
    private static final int REMOTE = ip("192.0.2.80");
    private GatewayHarness h;
    private int guest;

    @BeforeEach
    void setUp() {
        h = GatewayHarness.nat(NatConfig.builder().perGuestConnectionLimit(16)
                .forward(PortForward.parse("tcp:8080:10.0.2.15:80")), 2);
        guest = h.lease(0);
        h.lease(1);
        h.send(0, ipFrame(guest, REMOTE, Packets.UDP, Packets.udp(guest, REMOTE, 1, 9, new byte[1], true)));
        h.resolveNextHop();
        h.host.take();
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    private byte[] ipFrame(final int source, final int destination, final int protocol, final byte[] l4) {
        return new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(source, destination).payload(protocol,
                l4).frame();
    }

    private byte[] validSyn(final int port) {
        return ipFrame(guest, REMOTE, Packets.TCP, Packets.tcp(guest, REMOTE, port, 80, 1, 0, Packets.SYN,
                new byte[0]));
    }

    private void assertGuestFrameDropped(final NatDrop reason, final byte[] frame) {
        assertGuestFrameDropped(reason, null, frame);
    }

    private void assertGuestFrameDropped(final NatDrop reason, final byte[] header, final byte[] frame) {
        final long before = h.counters().drops(reason);
        final long total = h.counters().totalDrops();
        h.send(0, header, frame);
        assertEquals(before + 1, h.counters().drops(reason), reason.label());
        assertEquals(total + 1, h.counters().totalDrops(), "exactly one drop, counted once");
        assertEquals(0, h.host.take().size(), "nothing forwarded");
    }

    private void assertHostFrameDropped(final NatDrop reason, final byte[] frame) {
        assertHostFrameDropped(reason, frame, new NetHeaderValues().clear());
    }

    private void assertHostFrameDropped(final NatDrop reason, final byte[] frame, final NetHeaderValues header) {
        final long before = h.counters().drops(reason);
        final long total = h.counters().totalDrops();
        h.fromHost(frame, header);
        assertEquals(before + 1, h.counters().drops(reason), reason.label());
        assertEquals(total + 1, h.counters().totalDrops());
        assertEquals(0, h.fromGateway(0).size() + h.fromGateway(1).size(), "nothing delivered to guests");
    }

    private static byte[] header(final NetHeaderValues values) {
        final byte[] bytes = new byte[VirtioNetHeader.BYTES];
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment segment = arena.allocate(VirtioNetHeader.BYTES);
            values.writeTo(segment, 0, 0);
            MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, 0, bytes, 0, bytes.length);
        }
        return bytes;
    }

    @Test
    void hostileIhlBelowFive() {
        final byte[] frame = validSyn(2000);
        frame[14] = 0x44;
        assertGuestFrameDropped(NatDrop.IP_BAD_HEADER_LENGTH, frame);
    }

    @Test
    void hostileIhlBeyondTheTotalLength() {
        final byte[] frame = ipFrame(guest, REMOTE, Packets.UDP, Packets.udp(guest, REMOTE, 1, 2, new byte[4], true));
        frame[14] = 0x4F;
        assertGuestFrameDropped(NatDrop.IP_BAD_HEADER_LENGTH, Packets.refreshIpChecksum(Arrays.copyOf(frame, 120)));
    }

    @Test
    void hostileTotalLengthBeyondTheFrame() {
        final byte[] frame = validSyn(2001);
        Packets.put16(frame, 16, 1500);
        assertGuestFrameDropped(NatDrop.IP_BAD_TOTAL_LENGTH, Packets.refreshIpChecksum(frame));
    }

    @Test
    void hostileTotalLengthBelowTheHeader() {
        final byte[] frame = validSyn(2002);
        Packets.put16(frame, 16, 12);
        assertGuestFrameDropped(NatDrop.IP_BAD_HEADER_LENGTH, Packets.refreshIpChecksum(frame));
    }

    @Test
    void hostileIpVersionSixInsideAnIpv4Frame() {
        final byte[] frame = validSyn(2003);
        frame[14] = 0x65;
        assertGuestFrameDropped(NatDrop.IP_BAD_VERSION, frame);
    }

    @Test
    void hostileIpHeaderChecksumWrong() {
        final byte[] frame = validSyn(2004);
        frame[24] ^= 0x10;
        assertGuestFrameDropped(NatDrop.IP_BAD_CHECKSUM, frame);
    }

    @Test
    void hostileFrameTooShortForAnIpHeader() {
        final byte[] frame = Arrays.copyOf(validSyn(2005), 30);
        assertGuestFrameDropped(NatDrop.FRAME_TOO_SHORT, frame);
    }

    @Test
    void hostileTcpHeaderTruncated() {
        assertGuestFrameDropped(NatDrop.L4_TRUNCATED, ipFrame(guest, REMOTE, Packets.TCP, new byte[12]));
    }

    @Test
    void hostileUdpAndIcmpHeadersTruncated() {
        assertGuestFrameDropped(NatDrop.L4_TRUNCATED, ipFrame(guest, REMOTE, Packets.UDP, new byte[6]));
        assertGuestFrameDropped(NatDrop.L4_TRUNCATED, ipFrame(guest, REMOTE, Packets.ICMP, new byte[4]));
    }

    @Test
    void hostileTcpDataOffsetBelowFiveOrBeyondTheSegment() {
        final byte[] small = Packets.tcp(guest, REMOTE, 2006, 80, 1, 0, Packets.SYN, new byte[0]);
        small[12] = 0x30;
        assertGuestFrameDropped(NatDrop.TCP_BAD_DATA_OFFSET, ipFrame(guest, REMOTE, Packets.TCP, small));
        final byte[] large = Packets.tcp(guest, REMOTE, 2007, 80, 1, 0, Packets.SYN, new byte[4]);
        large[12] = (byte) 0xF0;
        assertGuestFrameDropped(NatDrop.TCP_BAD_DATA_OFFSET, ipFrame(guest, REMOTE, Packets.TCP, large));
    }

    @Test
    void hostileUdpLengthBelowEightOrBeyondThePayload() {
        final byte[] small = Packets.udp(guest, REMOTE, 3000, 53, new byte[10], true);
        Packets.put16(small, 4, 6);
        assertGuestFrameDropped(NatDrop.UDP_BAD_LENGTH, ipFrame(guest, REMOTE, Packets.UDP, small));
        final byte[] large = Packets.udp(guest, REMOTE, 3001, 53, new byte[10], true);
        Packets.put16(large, 4, 400);
        assertGuestFrameDropped(NatDrop.UDP_BAD_LENGTH, ipFrame(guest, REMOTE, Packets.UDP, large));
    }

    @Test
    void hostileTransportChecksumsWrong() {
        final byte[] tcp = Packets.tcp(guest, REMOTE, 2008, 80, 1, 0, Packets.SYN, new byte[3]);
        tcp[16] ^= 1;
        assertGuestFrameDropped(NatDrop.L4_BAD_CHECKSUM, ipFrame(guest, REMOTE, Packets.TCP, tcp));
        final byte[] udp = Packets.udp(guest, REMOTE, 3002, 53, new byte[3], true);
        udp[9] ^= 1;
        assertGuestFrameDropped(NatDrop.L4_BAD_CHECKSUM, ipFrame(guest, REMOTE, Packets.UDP, udp));
        final byte[] icmp = Packets.icmpEcho(8, 1, 1, new byte[3]);
        icmp[9] ^= 1;
        assertGuestFrameDropped(NatDrop.L4_BAD_CHECKSUM, ipFrame(guest, REMOTE, Packets.ICMP, icmp));
    }

    @Test
    void hostileSourceAddressOfAnotherGuest() {
        final int other = ip("10.0.2.16");
        assertGuestFrameDropped(NatDrop.SPOOFED_SOURCE, ipFrame(other, REMOTE, Packets.TCP,
                Packets.tcp(other, REMOTE, 2009, 80, 1, 0, Packets.SYN, new byte[0])));
    }

    @Test
    void hostileSourceOutsideTheSubnetOrMartian() {
        final int outside = ip("172.16.0.5");
        assertGuestFrameDropped(NatDrop.SOURCE_OUTSIDE_SUBNET, ipFrame(outside, REMOTE, Packets.UDP,
                Packets.udp(outside, REMOTE, 1, 2, new byte[2], true)));
        final int loopback = ip("127.0.0.1");
        assertGuestFrameDropped(NatDrop.MARTIAN_SOURCE, ipFrame(loopback, REMOTE, Packets.UDP,
                Packets.udp(loopback, REMOTE, 1, 2, new byte[2], true)));
        assertGuestFrameDropped(NatDrop.SOURCE_OUTSIDE_SUBNET, ipFrame(GATEWAY, REMOTE, Packets.UDP,
                Packets.udp(GATEWAY, REMOTE, 1, 2, new byte[2], true)));
    }

    @Test
    void hostileMartianDestination() {
        final int loopback = ip("127.0.0.1");
        assertGuestFrameDropped(NatDrop.MARTIAN_DESTINATION, ipFrame(guest, loopback, Packets.UDP,
                Packets.udp(guest, loopback, 1, 2, new byte[2], true)));
    }

    @Test
    void hostilePacketToTheNatsOwnHostAddressOrAnotherGuestThroughTheGateway() {
        assertGuestFrameDropped(NatDrop.TO_HOST_ADDRESS, ipFrame(guest, HOST_ADDRESS, Packets.UDP,
                Packets.udp(guest, HOST_ADDRESS, 1, 2, new byte[2], true)));
        final int other = ip("10.0.2.16");
        assertGuestFrameDropped(NatDrop.NOT_ROUTED_GUEST_SUBNET, ipFrame(guest, other, Packets.UDP,
                Packets.udp(guest, other, 1, 2, new byte[2], true)));
    }

    @Test
    void hostileChecksumOffloadPointingIntoTheIpHeader() {
        final NetHeaderValues offload = new NetHeaderValues().clear().needsChecksum(14, 10);
        assertGuestFrameDropped(NatDrop.BAD_OFFLOAD, header(offload), validSyn(2010));
    }

    @Test
    void hostileGsoWithoutChecksumOffloadOrOnTheWrongProtocol() {
        final NetHeaderValues noCsum = new NetHeaderValues().clear().gso(VirtioNetHeader.GSO_TCPV4, 1400, 54);
        assertGuestFrameDropped(NatDrop.BAD_OFFLOAD, header(noCsum), validSyn(2011));
        final NetHeaderValues onUdp = new NetHeaderValues().clear().needsChecksum(34, 6)
                .gso(VirtioNetHeader.GSO_TCPV4, 1400, 42);
        assertGuestFrameDropped(NatDrop.BAD_OFFLOAD, header(onUdp), ipFrame(guest, REMOTE, Packets.UDP,
                Packets.udp(guest, REMOTE, 1, 2, new byte[30], true)));
    }

    @Test
    void hostileChecksumOffloadOnAFragment() {
        final byte[] frame = new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, REMOTE)
                .payload(Packets.UDP, Packets.udp(guest, REMOTE, 1, 2, new byte[40], true)).fragment(0x2000, 5).frame();
        assertGuestFrameDropped(NatDrop.BAD_OFFLOAD, header(new NetHeaderValues().clear().needsChecksum(34, 6)), frame);
    }

    @Test
    void hostileTinyFirstFragment() {
        final byte[] frame = new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, REMOTE)
                .payload(Packets.TCP, new byte[8]).fragment(0x2000, 6).frame();
        assertGuestFrameDropped(NatDrop.FRAGMENT_TINY, frame);
    }

    @Test
    void hostileLaterFragmentWithoutItsFirst() {
        final byte[] frame = new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, REMOTE)
                .payload(Packets.UDP, new byte[40]).fragment(10, 7).frame();
        assertGuestFrameDropped(NatDrop.FRAGMENT_UNTRACKED, frame);
    }

    @Test
    void hostileFragmentToTheGateway() {
        final byte[] frame = new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, GATEWAY)
                .payload(Packets.ICMP, Packets.icmpEcho(8, 1, 1, new byte[40])).fragment(0x2000, 8).frame();
        assertGuestFrameDropped(NatDrop.FRAGMENT_TO_GATEWAY, frame);
    }

    @Test
    void hostileTcpSegmentWithoutSynOpensNothing() {
        assertGuestFrameDropped(NatDrop.TCP_NO_CONNECTION, ipFrame(guest, REMOTE, Packets.TCP,
                Packets.tcp(guest, REMOTE, 2012, 80, 1, 1, Packets.ACK, new byte[0])));
        assertGuestFrameDropped(NatDrop.TCP_NO_CONNECTION, ipFrame(guest, REMOTE, Packets.TCP,
                Packets.tcp(guest, REMOTE, 2013, 80, 1, 1, Packets.SYN | Packets.RST, new byte[0])));
        assertEquals(1, h.gateway.connectionCount(), "only the setup's flow");
    }

    @Test
    void hostileProtocolOrIcmpTypeTheNatDoesNotTranslate() {
        assertGuestFrameDropped(NatDrop.UNSUPPORTED_PROTOCOL, ipFrame(guest, REMOTE, 47, new byte[24]));
        final byte[] timestamp = Packets.icmpEcho(13, 1, 1, new byte[12]);
        assertGuestFrameDropped(NatDrop.ICMP_UNSUPPORTED, ipFrame(guest, REMOTE, Packets.ICMP, timestamp));
    }

    @Test
    void hostileIcmpErrorFromAGuestQuotingNoConnection() {
        final byte[] quoted = new Packets.Ip().addresses(REMOTE, guest)
                .payload(Packets.UDP, Packets.udp(REMOTE, guest, 53, 4444, new byte[4], true)).packet();
        assertGuestFrameDropped(NatDrop.ICMP_ERROR_UNMATCHED, ipFrame(guest, REMOTE, Packets.ICMP,
                Packets.icmpError(3, 3, quoted, quoted.length)));
    }

    @Test
    void hostileFloodOfNewFlowsStopsAtTheGuestLimit() {
        for (int i = 0; i < 30; i++) {
            h.send(0, validSyn(20_000 + i));
        }
        assertEquals(16, h.gateway.connections().sizeOf(guest), "per-guest limit");
        assertEquals(15, h.counters().drops(NatDrop.GUEST_CONNECTION_LIMIT));
        h.host.take();
        h.send(1, new Packets.Ip().macs(GATEWAY_MAC, h.mac(1)).addresses(ip("10.0.2.16"), REMOTE)
                .payload(Packets.TCP, Packets.tcp(ip("10.0.2.16"), REMOTE, 1234, 80, 1, 0, Packets.SYN, new byte[0]))
                .frame());
        assertEquals(1, h.host.take().size(), "the other guest is not starved");
    }

    @Test
    void hostileTableExhaustionEvictsButNeverGrowsTheTable() {
        h.close();
        h = GatewayHarness.nat(NatConfig.builder().connectionCapacity(64).perGuestConnectionLimit(64), 2);
        final int[] addresses = {h.lease(0), h.lease(1)};
        for (int i = 0; i < 500; i++) {
            final int g = i % 2;
            final int source = addresses[g];
            h.guest(g).net().transmit(null, new Packets.Ip().macs(GATEWAY_MAC, h.mac(g)).addresses(source, REMOTE)
                    .payload(Packets.TCP, Packets.tcp(source, REMOTE, 10_000 + i, 80, 1, 0, Packets.SYN, new byte[0]))
                    .frame(), false);
            h.pump();
            h.clock.addAndGet(1_000);
            assertTrue(h.gateway.connectionCount() <= 64, "bounded: " + h.gateway.connectionCount());
        }
        assertEquals(500 - 64, h.counters().events(NatEvent.CONNECTIONS_EVICTED), "the oldest idle flows made room");
        assertEquals(0, h.counters().drops(NatDrop.GUEST_CONNECTION_LIMIT), "neither guest reached its own limit");
    }

    @Test
    void hostileDataValidFromAGuestDoesNotSkipChecksumVerification() {
        final byte[] udp = Packets.udp(guest, REMOTE, 3003, 53, new byte[8], true);
        udp[10] ^= 0x11;
        assertGuestFrameDropped(NatDrop.L4_BAD_CHECKSUM, header(new NetHeaderValues().clear().checksumComplete(true)),
                ipFrame(guest, REMOTE, Packets.UDP, udp));
    }

    @Test
    void hostileDataValidFromAGuestIsNotPassedToTheHostKernel() {
        h.send(0, header(new NetHeaderValues().clear().checksumComplete(true)),
                ipFrame(guest, REMOTE, Packets.UDP, Packets.udp(guest, REMOTE, 3004, 53, new byte[8], true)));
        final FrameQueueLink.Frame out = h.host.take().getFirst();
        assertEquals(0, out.header().flags(), "a flag the driver must not set is not passed on to the host");
    }

    @Test
    void hostileGuestSprayingOnLinkAddressesCannotFloodTheHostLinkWithArp() {
        h.clock.addAndGet(h.config.timeouts().arpRetryNs());
        for (int i = 10; i < 60; i++) {
            final int onLink = ip("10.0.3." + i);
            h.send(0, ipFrame(guest, onLink, Packets.UDP, Packets.udp(guest, onLink, 4000, 9, new byte[2], true)));
        }
        final long requests = h.host.take().stream().filter(f -> Packets.u16(f.bytes(), 12) == 0x0806).count();
        assertEquals(HostNeighbors.REQUESTS_PER_RETRY, requests, "ARP requests per retry interval are bounded");
        h.send(0, ipFrame(guest, REMOTE, Packets.UDP, Packets.udp(guest, REMOTE, 1, 9, new byte[1], true)));
        final byte[] datagram = h.host.take().getFirst().bytes();
        assertEquals(0x0800, Packets.u16(datagram, 12), "the next hop stayed resolved: no new ARP, the datagram left");
        assertArrayEquals(NEXT_HOP_MAC, Arrays.copyOfRange(datagram, 0, 6));
    }

    @Test
    void hostileHostFrameToAnotherAddressOrMac() {
        assertHostFrameDropped(NatDrop.NOT_FOR_HOST_ADDRESS, new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC)
                .addresses(REMOTE, ip("10.0.3.9")).payload(Packets.UDP, Packets.udp(REMOTE, ip("10.0.3.9"), 1, 2,
                        new byte[2], true)).frame());
        assertHostFrameDropped(NatDrop.NOT_FOR_GATEWAY_MAC, new Packets.Ip().macs(Packets.mac("02:99:99:99:99:99"),
                NEXT_HOP_MAC).addresses(REMOTE, HOST_ADDRESS).payload(Packets.UDP, new byte[8]).frame());
        assertHostFrameDropped(NatDrop.FRAME_TOO_SHORT, new byte[10]);
    }

    @Test
    void hostileHostPacketFromAMartianSource() {
        final int loopback = ip("127.0.0.1");
        assertHostFrameDropped(NatDrop.MARTIAN_SOURCE, new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC)
                .addresses(loopback, HOST_ADDRESS).payload(Packets.UDP, Packets.udp(loopback, HOST_ADDRESS, 1, 2,
                        new byte[2], true)).frame());
    }

    @Test
    void hostileHostChecksumWrongOrOffloadMisplaced() {
        final byte[] tcp = Packets.tcp(REMOTE, HOST_ADDRESS, 80, 1, 1, 1, Packets.ACK, new byte[5]);
        tcp[22] ^= 0x55;
        assertHostFrameDropped(NatDrop.L4_BAD_CHECKSUM, new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC)
                .addresses(REMOTE, HOST_ADDRESS).payload(Packets.TCP, tcp).frame());
        assertHostFrameDropped(NatDrop.BAD_OFFLOAD, new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC)
                        .addresses(REMOTE, HOST_ADDRESS).payload(Packets.TCP, Packets.tcp(REMOTE, HOST_ADDRESS, 80, 1,
                                1, 1,
                                Packets.ACK, new byte[5])).frame(),
                new NetHeaderValues().clear().needsChecksum(34, 6));
    }

    @Test
    void hostileHostSegmentToAForwardedPortWithoutSynOpensNothing() {
        assertHostFrameDropped(NatDrop.NO_CONNECTION, new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC)
                .addresses(REMOTE, HOST_ADDRESS).payload(Packets.TCP, Packets.tcp(REMOTE, HOST_ADDRESS, 50000, 8080, 1,
                        1,
                        Packets.ACK, new byte[0])).frame());
        assertHostFrameDropped(NatDrop.NO_CONNECTION, new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC)
                .addresses(REMOTE, HOST_ADDRESS).payload(Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 53, 33333,
                        new byte[2], true)).frame());
    }

    @Test
    void hostileHostPacketWithTtlOne() {
        assertHostFrameDropped(NatDrop.TTL_EXPIRED, new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).ttl(1)
                .addresses(REMOTE, HOST_ADDRESS).payload(Packets.TCP, Packets.tcp(REMOTE, HOST_ADDRESS, 1, 8080, 1, 0,
                        Packets.SYN, new byte[0])).frame());
    }

    @Test
    void hostileHostIcmpErrorsTooShortQuotingGarbageOrAnotherHost() {
        final byte[] quotedForUs = new Packets.Ip().addresses(HOST_ADDRESS, REMOTE)
                .payload(Packets.UDP, Packets.udp(HOST_ADDRESS, REMOTE, 1, 9, new byte[4], true)).packet();
        assertHostFrameDropped(NatDrop.ICMP_ERROR_MALFORMED, icmpFromHost(Packets.icmpError(3, 3, quotedForUs, 20)));
        final byte[] badIhl = quotedForUs.clone();
        badIhl[0] = 0x43;
        assertHostFrameDropped(NatDrop.ICMP_ERROR_MALFORMED, icmpFromHost(Packets.icmpError(3, 3, badIhl, 28)));
        final byte[] quotedForOther = new Packets.Ip().addresses(ip("10.0.3.77"), REMOTE)
                .payload(Packets.UDP, Packets.udp(ip("10.0.3.77"), REMOTE, 1, 9, new byte[4], true)).packet();
        assertHostFrameDropped(NatDrop.ICMP_ERROR_UNMATCHED, icmpFromHost(Packets.icmpError(3, 3, quotedForOther, 28)));
        final byte[] quotedUnknownFlow = new Packets.Ip().addresses(HOST_ADDRESS, REMOTE)
                .payload(Packets.UDP, Packets.udp(HOST_ADDRESS, REMOTE, 7777, 9, new byte[4], true)).packet();
        assertHostFrameDropped(NatDrop.ICMP_ERROR_UNMATCHED, icmpFromHost(Packets.icmpError(3, 3, quotedUnknownFlow,
                28)));
    }

    private static byte[] icmpFromHost(final byte[] icmp) {
        return new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(NEXT_HOP, HOST_ADDRESS).payload(Packets.ICMP,
                icmp)
                .frame();
    }

    @Test
    void hostileHostArpMalformedOrFromAGroupMac() {
        final byte[] bad = Packets.arp(1, Packets.BROADCAST, NEXT_HOP_MAC, NEXT_HOP, new byte[6], HOST_ADDRESS);
        bad[15] = 7;
        assertHostFrameDropped(NatDrop.ARP_MALFORMED, bad);
        final byte[] group = Packets.arp(1, Packets.BROADCAST, NEXT_HOP_MAC, NEXT_HOP, new byte[6], HOST_ADDRESS);
        group[22] = 1;
        assertHostFrameDropped(NatDrop.ARP_SPOOFED, group);
        assertEquals(0, h.host.take().size(), "not answered");
    }

    @Test
    void hostileUnsolicitedArpReplyDoesNotPoisonTheCache() {
        final int onLink = ip("10.0.3.50");
        h.fromHost(Packets.arp(2, HOST_MAC, Packets.mac("02:66:00:00:00:01"), onLink, HOST_MAC, HOST_ADDRESS));
        h.send(0, ipFrame(guest, onLink, Packets.UDP, Packets.udp(guest, onLink, 1, 2, new byte[2], true)));
        final byte[] first = h.host.take().getFirst().bytes();
        assertEquals(0x0806, Packets.u16(first, 12), "still asks: the unsolicited answer was not believed");
    }

    @Test
    void randomlyMutatedGuestFramesNeverThrowAndAreAllAccountedFor() {
        final SplittableRandom random = new SplittableRandom(11);
        final byte[][] seeds = {
                validSyn(30_000),
                ipFrame(guest, REMOTE, Packets.UDP, Packets.udp(guest, REMOTE, 5000, 53, new byte[40], true)),
                ipFrame(guest, REMOTE, Packets.ICMP, Packets.icmpEcho(8, 3, 4, new byte[20])),
                ipFrame(guest, GATEWAY, Packets.ICMP, Packets.icmpEcho(8, 3, 4, new byte[20])),
                Dhcp.discover(h.mac(0), 5, false, new byte[] {1, 2, 3}),
                new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, REMOTE)
                        .payload(Packets.UDP, new byte[40]).fragment(0x2000, 9).frame()};
        final int frames = 3_000;
        final long before = accounted();
        for (int i = 0; i < frames; i++) {
            final byte[] frame = seeds[random.nextInt(seeds.length)].clone();
            final int mutations = 1 + random.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                frame[14 + random.nextInt(frame.length - 14)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(4) == 0) {
                Packets.refreshIpChecksum(frame);
            }
            h.guest(0).net().transmit(null, frame, false);
            h.pump();
            h.host.take();
            h.received(0);
        }
        assertTrue(accounted() - before >= frames, "every frame forwarded, answered or counted as a drop: "
                + (accounted() - before));
        h.send(0, validSyn(31_000));
        assertEquals(1, h.host.take().size(), "still forwarding");
    }

    private long accounted() {
        long sum = h.counters().totalDrops();
        for (NatEvent event : new NatEvent[] {NatEvent.GUEST_TO_HOST_PACKETS, NatEvent.FRAMES_HELD_FOR_ARP,
                NatEvent.ICMP_ECHO_REPLIES, NatEvent.DHCP_OFFERS, NatEvent.DHCP_ACKS, NatEvent.DHCP_NAKS,
                NatEvent.DHCP_RELEASES, NatEvent.DHCP_DECLINES}) {
            sum += h.counters().events(event);
        }
        return sum;
    }

    @Test
    void randomlyMutatedHostFramesNeverThrow() {
        h.send(0, validSyn(32_000));
        final Packets.Parsed out = Packets.Parsed.of(h.host.take().getFirst().bytes());
        final byte[] quoted = Arrays.copyOfRange(out.frame(), 14, 14 + out.totalBytes());
        final byte[][] seeds = {
                new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(REMOTE, HOST_ADDRESS).payload(Packets.TCP,
                        Packets.tcp(REMOTE, HOST_ADDRESS, 80, out.sourcePort(), 1, 2, Packets.SYN | Packets.ACK,
                                new byte[10])).frame(),
                icmpFromHost(Packets.icmpError(3, 3, quoted, quoted.length)),
                icmpFromHost(Packets.icmpEcho(8, 1, 1, new byte[10])),
                Packets.arp(1, Packets.BROADCAST, NEXT_HOP_MAC, NEXT_HOP, new byte[6], HOST_ADDRESS)};
        final SplittableRandom random = new SplittableRandom(12);
        for (int i = 0; i < 3_000; i++) {
            final byte[] frame = seeds[random.nextInt(seeds.length)].clone();
            for (int m = 0; m < 1 + random.nextInt(4); m++) {
                frame[random.nextInt(frame.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(3) == 0 && Packets.u16(frame, 12) == 0x0800) {
                Packets.refreshIpChecksum(frame);
            }
            h.host.queue(Arrays.copyOf(frame, random.nextInt(frame.length / 2, frame.length + 1)));
            h.pump();
            h.received(0);
            h.received(1);
            h.host.take();
        }
        h.fromHost(seeds[0]);
        assertEquals(1, h.fromGateway(0).size(), "still translating");
    }
}

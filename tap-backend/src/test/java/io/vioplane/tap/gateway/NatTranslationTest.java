package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.ConnectionTable;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.Packets;
import io.vioplane.tap.nat.PortForward;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.MacAddress;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static io.vioplane.tap.gateway.GatewayHarness.*;
import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * NAPT (RFC 3022) through the gateway: test guests on real rings and a bridge, the test playing the host side
 * (router, remote servers) on the gateway's host link. Every translated frame is checked field by field and its
 * checksums recomputed from scratch; offloaded frames (partial checksums, GSO) are completed as a device would.
 */
class NatTranslationTest {
    private static final int REMOTE = ip("192.0.2.80");
    private GatewayHarness harness;

    @AfterEach
    void tearDown() {
        if (harness != null) {
            harness.close();
        }
    }

    private GatewayHarness start(final NatConfig.Builder builder, final int guests) {
        harness = GatewayHarness.nat(builder, guests);
        return harness;
    }

    private static byte[] fromGuest(final GatewayHarness h, final int guest, final int source, final int destination,
                                    final int protocol, final byte[] l4) {
        return new Packets.Ip().macs(GATEWAY_MAC, h.mac(guest)).addresses(source, destination).payload(protocol, l4)
                .frame();
    }

    private static byte[] toHost(final int source, final int protocol, final byte[] l4) {
        return new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(source, HOST_ADDRESS).payload(protocol, l4)
                .frame();
    }

    private static byte[] syn(final GatewayHarness h, final int guest, final int source, final int port) {
        return fromGuest(h, guest, source, REMOTE, Packets.TCP,
                Packets.tcp(source, REMOTE, port, 80, 1000, 0, Packets.SYN, new byte[0]));
    }

    /** @return the IPv4 frames the host side got (ARP left out) */
    private static List<Packets.Parsed> hostIpv4(final GatewayHarness h) {
        return h.host.take().stream().map(f -> Packets.Parsed.of(f.bytes())).filter(p
                -> p.etherType() == 0x0800).toList();
    }

    @Test
    void theFirstPacketWaitsForArpThenLeavesTranslatedToTheNextHop() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, syn(h, 0, guest, 40000));
        final List<FrameQueueLink.Frame> sent = h.host.take();
        assertEquals(1, sent.size(), "only the ARP request: the SYN waits for the answer");
        final byte[] arp = sent.getFirst().bytes();
        assertArrayEquals(Packets.BROADCAST, Arrays.copyOfRange(arp, 0, 6));
        assertArrayEquals(HOST_MAC, Arrays.copyOfRange(arp, 6, 12));
        assertEquals(1, Packets.u16(arp, 20), "request");
        assertArrayEquals(HOST_MAC, Arrays.copyOfRange(arp, 22, 28));
        assertEquals(HOST_ADDRESS, Packets.u32(arp, 28));
        assertEquals(NEXT_HOP, Packets.u32(arp, 38), "the next hop, not the remote (off-link)");
        assertEquals(1, h.counters().events(NatEvent.FRAMES_HELD_FOR_ARP));
        h.fromHost(Packets.arp(2, HOST_MAC, NEXT_HOP_MAC, NEXT_HOP, HOST_MAC, HOST_ADDRESS));
        final Packets.Parsed out = Packets.Parsed.of(h.host.take().getFirst().bytes());
        assertEquals(MacAddress.of(NEXT_HOP_MAC).value(), out.destinationMac());
        assertEquals(MacAddress.of(HOST_MAC).value(), out.sourceMac());
        assertEquals(HOST_ADDRESS, out.source(), "source NAT onto the host-side address");
        assertEquals(REMOTE, out.destination());
        assertEquals(40000, out.sourcePort(), "a free guest port is preserved");
        assertEquals(80, out.destinationPort());
        assertEquals(63, out.ttl(), "forwarded: TTL decremented");
        assertEquals(1000, out.sequence(), "sequence numbers are not touched");
        assertTrue(out.ipChecksumValid());
        assertTrue(out.transportChecksumValid());
        assertEquals(1, h.counters().events(NatEvent.GUEST_TO_HOST_PACKETS));
        h.send(0, syn(h, 0, guest, 40000));
        assertEquals(1, hostIpv4(h).size(), "once resolved, frames leave at once");
    }

    @Test
    void theAnswerComesBackToTheGuestAndTheConnectionIsEstablished() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, syn(h, 0, guest, 40000));
        h.resolveNextHop();
        final Packets.Parsed out = hostIpv4(h).getFirst();
        h.fromHost(toHost(REMOTE, Packets.TCP, Packets.tcp(REMOTE, HOST_ADDRESS, 80, out.sourcePort(), 5000, 1001,
                Packets.SYN | Packets.ACK, new byte[0])));
        final Packets.Parsed in = Packets.Parsed.of(h.single(0));
        assertEquals(MacAddress.of(h.mac(0)).value(), in.destinationMac());
        assertEquals(MacAddress.of(GATEWAY_MAC).value(), in.sourceMac());
        assertEquals(REMOTE, in.source());
        assertEquals(guest, in.destination());
        assertEquals(80, in.sourcePort());
        assertEquals(40000, in.destinationPort());
        assertEquals(Packets.SYN | Packets.ACK, in.flags());
        assertEquals(1001, in.acknowledgment());
        assertEquals(63, in.ttl());
        assertTrue(in.ipChecksumValid());
        assertTrue(in.transportChecksumValid());
        final int entry = h.gateway.connections().findFromGuest(IpProtocol.TCP, guest, 40000, REMOTE, 80,
                h.clock.get());
        assertEquals("SYN_RECEIVED", ConnectionTable.stateName(h.gateway.connections().state(entry)));
        h.send(0, fromGuest(h, 0, guest, REMOTE, Packets.TCP,
                Packets.tcp(guest, REMOTE, 40000, 80, 1001, 5001, Packets.ACK, new byte[0])));
        assertEquals("ESTABLISHED", ConnectionTable.stateName(h.gateway.connections().state(entry)));
        assertEquals(1, hostIpv4(h).size());
    }

    @Test
    void twoGuestsUsingTheSameSourcePortGetDifferentMappingsAndTheirOwnAnswers() {
        final GatewayHarness h = start(NatConfig.builder(), 2);
        final int first = h.lease(0);
        final int second = h.lease(1);
        h.send(0, fromGuest(h, 0, first, REMOTE, Packets.UDP, Packets.udp(first, REMOTE, 5353, 53, new byte[20],
                true)));
        h.resolveNextHop();
        h.send(1, fromGuest(h, 1, second, REMOTE, Packets.UDP, Packets.udp(second, REMOTE, 5353, 53, new byte[20],
                true)));
        final List<Packets.Parsed> out = hostIpv4(h);
        assertEquals(2, out.size());
        final int firstPort = out.get(0).sourcePort();
        final int secondPort = out.get(1).sourcePort();
        assertNotEquals(firstPort, secondPort);
        h.fromHost(toHost(REMOTE, Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 53, secondPort, "two".getBytes(),
                true)));
        h.fromHost(toHost(REMOTE, Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 53, firstPort, "one".getBytes(),
                true)));
        final Packets.Parsed toFirst = Packets.Parsed.of(h.single(0));
        final Packets.Parsed toSecond = Packets.Parsed.of(h.single(1));
        assertArrayEquals("one".getBytes(), toFirst.udpData());
        assertEquals(first, toFirst.destination());
        assertEquals(5353, toFirst.destinationPort());
        assertArrayEquals("two".getBytes(), toSecond.udpData());
        assertEquals(second, toSecond.destination());
        assertTrue(toFirst.transportChecksumValid() && toSecond.transportChecksumValid());
    }

    @Test
    void aUdpDatagramWithoutChecksumCrossesBothWaysWithoutOne() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, fromGuest(h, 0, guest, REMOTE, Packets.UDP, Packets.udp(guest, REMOTE, 6000, 69, new byte[12],
                false)));
        h.resolveNextHop();
        final Packets.Parsed out = hostIpv4(h).getFirst();
        assertEquals(0, Packets.u16(out.frame(), out.l4() + 6));
        h.fromHost(toHost(REMOTE, Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 69, out.sourcePort(), new byte[5],
                false)));
        final Packets.Parsed in = Packets.Parsed.of(h.single(0));
        assertEquals(0, Packets.u16(in.frame(), in.l4() + 6), "no checksum stays no checksum");
        assertTrue(in.ipChecksumValid());
    }

    @Test
    void pingThroughTheNatMapsTheIdentifierPerGuestAndBack() {
        final GatewayHarness h = start(NatConfig.builder(), 2);
        final int first = h.lease(0);
        final int second = h.lease(1);
        h.send(0, fromGuest(h, 0, first, REMOTE, Packets.ICMP, Packets.icmpEcho(8, 0x77, 1, new byte[32])));
        h.resolveNextHop();
        h.send(1, fromGuest(h, 1, second, REMOTE, Packets.ICMP, Packets.icmpEcho(8, 0x77, 1, new byte[32])));
        final List<Packets.Parsed> out = hostIpv4(h);
        assertEquals(2, out.size());
        assertNotEquals(out.get(0).sourcePort(), out.get(1).sourcePort(), "same identifier, two guests, two mappings");
        for (Packets.Parsed p : out) {
            assertTrue(p.transportChecksumValid(), "ICMP checksum updated for the identifier");
            assertEquals(HOST_ADDRESS, p.source());
        }
        h.fromHost(toHost(REMOTE, Packets.ICMP, Packets.icmpEcho(0, out.get(1).sourcePort(), 1, new byte[32])));
        final Packets.Parsed reply = Packets.Parsed.of(h.single(1));
        assertEquals(0, reply.icmpType());
        assertEquals(0x77, reply.sourcePort(), "the guest's own identifier");
        assertEquals(second, reply.destination());
        assertTrue(reply.transportChecksumValid());
        assertEquals(0, h.fromGateway(0).size());
    }

    private static byte[] header(final NetHeaderValues values) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment segment = arena.allocate(VirtioNetHeader.BYTES);
            values.writeTo(segment, 0, 0);
            return segment.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    /** Replaces a complete TCP/UDP checksum with the partial pseudo-header sum a NEEDS_CSUM frame carries. */
    private static byte[] partial(final byte[] frame, final int field) {
        final byte[] copy = frame.clone();
        final int l4Bytes = Packets.u16(copy, 16) - 20;
        Packets.put16(copy, 34 + field, Packets.sum(new byte[0], 0, 0,
                Packets.pseudo(Packets.u32(copy, 26), Packets.u32(copy, 30), copy[23] & 0xFF, l4Bytes)));
        return copy;
    }

    private static byte[] completed(final byte[] frame, final NetHeaderValues header) {
        final byte[] copy = frame.clone();
        final int start = header.checksumStart();
        final int end = 14 + Packets.u16(copy, 16);
        Packets.put16(copy, start + header.checksumOffset(), 0);
        Packets.put16(copy, start + header.checksumOffset(), Packets.checksum(copy, start, end - start,
                Packets.sum(frame, start + header.checksumOffset(), 2, 0)));
        return copy;
    }

    @Test
    void aGuestFrameWithAPartialChecksumLeavesWithItsPseudoHeaderSumUpdated() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final byte[] data = "partial checksum payload".getBytes();
        final byte[] frame = partial(fromGuest(h, 0, guest, REMOTE, Packets.TCP,
                Packets.tcp(guest, REMOTE, 41000, 80, 1, 0, Packets.SYN, data)), 16);
        h.send(0, header(new NetHeaderValues().clear().needsChecksum(34, 16)), frame);
        h.resolveNextHop();
        final FrameQueueLink.Frame out = h.host.take().getFirst();
        assertTrue(out.header().needsChecksum(), "the checksum is still left to the kernel");
        assertEquals(34, out.header().checksumStart());
        assertEquals(16, out.header().checksumOffset());
        final Packets.Parsed parsed = Packets.Parsed.of(completed(out.bytes(), out.header()));
        assertEquals(HOST_ADDRESS, parsed.source());
        assertTrue(parsed.transportChecksumValid(), "completing the updated partial sum gives the right checksum");
        assertTrue(parsed.ipChecksumValid());
    }

    @Test
    void aHostFrameWithAPartialChecksumReachesGuestsRightWithOrWithoutChecksumOffload() {
        for (boolean guestCsum : new boolean[] {true, false}) {
            final long features = VirtioFeature.bit(VirtioNetFeature.CSUM)
                    | (guestCsum ? VirtioFeature.bit(VirtioNetFeature.GUEST_CSUM) : 0);
            harness = GatewayHarness.nat(NatConfig.builder(), 1, features);
            final GatewayHarness h = harness;
            final int guest = h.lease(0);
            h.send(0, syn(h, 0, guest, 42000));
            h.resolveNextHop();
            final int port = hostIpv4(h).getFirst().sourcePort();
            final byte[] frame = partial(toHost(REMOTE, Packets.TCP, Packets.tcp(REMOTE, HOST_ADDRESS, 80, port, 9,
                    1001,
                    Packets.SYN | Packets.ACK, "xyz".getBytes())), 16);
            h.fromHost(frame, new NetHeaderValues().clear().needsChecksum(34, 16));
            final GatewayHarness.Received in = h.receivedWithHeaders(0).getFirst();
            final byte[] bytes = guestCsum ? completed(in.frame(), in.header()) : in.frame();
            assertEquals(guestCsum, in.header().needsChecksum());
            final Packets.Parsed parsed = Packets.Parsed.of(bytes);
            assertEquals(guest, parsed.destination());
            assertEquals(42000, parsed.destinationPort());
            assertTrue(parsed.transportChecksumValid(), "guest checksum offload " + guestCsum);
            harness.close();
            harness = null;
        }
    }

    @Test
    void aGsoFrameCrossesWholeWithItsSegmentationHeaderAndAnUpdatedPartialSum() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final byte[] data = new byte[4000];
        new java.util.Random(3).nextBytes(data);
        final byte[] frame = partial(fromGuest(h, 0, guest, REMOTE, Packets.TCP,
                Packets.tcp(guest, REMOTE, 43000, 80, 1, 1, Packets.ACK | Packets.PSH, data)), 16);
        h.send(0, syn(h, 0, guest, 43000));
        h.resolveNextHop();
        h.host.take();
        final NetHeaderValues gso = new NetHeaderValues().clear().needsChecksum(34, 16)
                .gso(VirtioNetHeader.GSO_TCPV4, 1448, 54);
        h.send(0, header(gso), frame);
        final FrameQueueLink.Frame out = h.host.take().getFirst();
        assertEquals(frame.length, out.bytes().length, "one 4 KiB frame, not segmented");
        assertEquals(VirtioNetHeader.GSO_TCPV4, out.header().gsoKind());
        assertEquals(1448, out.header().gsoSize());
        assertEquals(54, out.header().headerLength());
        final Packets.Parsed parsed = Packets.Parsed.of(completed(out.bytes(), out.header()));
        assertEquals(HOST_ADDRESS, parsed.source());
        assertTrue(parsed.transportChecksumValid());
        assertTrue(parsed.ipChecksumValid());
    }

    @Test
    void aPortUnreachableFromTheHostSideIsTranslatedBackInsideAndOut() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, syn(h, 0, guest, 44000));
        h.resolveNextHop();
        final Packets.Parsed out = hostIpv4(h).getFirst();
        final byte[] quoted = Arrays.copyOfRange(out.frame(), 14, 14 + out.totalBytes());
        for (int quote : new int[] {quoted.length, 28}) {
            h.fromHost(toHost(NEXT_HOP, Packets.ICMP, Packets.icmpError(3, 3, quoted, quote)));
            final Packets.Parsed error = Packets.Parsed.of(h.single(0));
            assertEquals(3, error.icmpType());
            assertEquals(NEXT_HOP, error.source());
            assertEquals(guest, error.destination(), "outer destination translated");
            assertTrue(error.ipChecksumValid());
            assertTrue(error.transportChecksumValid(), "ICMP checksum over the translated message");
            final Packets.Parsed inner = error.quoted();
            assertEquals(guest, inner.source(), "the quoted packet shows the guest's address");
            assertEquals(44000, Packets.u16(inner.frame(), inner.l4()), "... and port");
            assertEquals(REMOTE, inner.destination());
            assertTrue(inner.ipChecksumValid(), "quoted header checksum updated");
            if (quote == quoted.length) {
                assertTrue(inner.transportChecksumValid(), "the whole quoted segment verifies");
            }
        }
        assertEquals(2, h.counters().events(NatEvent.ICMP_ERRORS_TRANSLATED));
    }

    @Test
    void aTimeExceededAboutAPingGoesBackWithTheGuestsIdentifier() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, fromGuest(h, 0, guest, REMOTE, Packets.ICMP, Packets.icmpEcho(8, 0x1234, 9, new byte[16])));
        h.resolveNextHop();
        final Packets.Parsed out = hostIpv4(h).getFirst();
        final byte[] quoted = Arrays.copyOfRange(out.frame(), 14, 14 + 28);
        h.fromHost(toHost(ip("10.0.3.99"), Packets.ICMP, Packets.icmpError(11, 0, quoted, 28)));
        final Packets.Parsed error = Packets.Parsed.of(h.single(0));
        assertEquals(11, error.icmpType());
        assertTrue(error.transportChecksumValid());
        final Packets.Parsed inner = error.quoted();
        assertEquals(0x1234, Packets.u16(inner.frame(), inner.l4() + 4), "the guest's identifier");
        assertEquals(guest, inner.source());
        assertEquals(Packets.u16(Packets.icmpEcho(8, 0x1234, 9, new byte[16]), 2), Packets.u16(inner.frame(),
                inner.l4() + 2),
                "the quoted ICMP checksum is the guest's original one");
    }

    @Test
    void aForwardedPortReachesTheGuestAndItsAnswersLeaveFromThatPort() {
        final GatewayHarness h = start(NatConfig.builder().forward(PortForward.parse("tcp:8080:10.0.2.15:80")), 1);
        final int guest = h.lease(0);
        assertEquals(ip("10.0.2.15"), guest);
        h.fromHost(toHost(REMOTE, Packets.TCP, Packets.tcp(REMOTE, HOST_ADDRESS, 51000, 8080, 77, 0, Packets.SYN,
                new byte[0])));
        final Packets.Parsed in = Packets.Parsed.of(h.single(0));
        assertEquals(REMOTE, in.source(), "the remote address is kept (destination NAT only)");
        assertEquals(51000, in.sourcePort());
        assertEquals(guest, in.destination());
        assertEquals(80, in.destinationPort());
        assertTrue(in.transportChecksumValid());
        h.send(0, fromGuest(h, 0, guest, REMOTE, Packets.TCP, Packets.tcp(guest, REMOTE, 80, 51000, 500, 78,
                Packets.SYN | Packets.ACK, new byte[0])));
        h.resolveNextHop();
        final Packets.Parsed out = hostIpv4(h).getFirst();
        assertEquals(HOST_ADDRESS, out.source());
        assertEquals(8080, out.sourcePort(), "the answer leaves from the forwarded port");
        assertEquals(51000, out.destinationPort());
        assertTrue(out.transportChecksumValid());
        h.fromHost(toHost(REMOTE, Packets.TCP, Packets.tcp(REMOTE, HOST_ADDRESS, 51000, 8080, 78, 501, Packets.ACK,
                new byte[0])));
        final int entry = h.gateway.connections().findFromHost(IpProtocol.TCP, 8080, REMOTE, 51000, h.clock.get());
        assertEquals("ESTABLISHED", ConnectionTable.stateName(h.gateway.connections().state(entry)));
    }

    @Test
    void aForwardToAGuestNotSeenYetAsksForItsMac() {
        final GatewayHarness h = start(NatConfig.builder().forward(PortForward.parse("udp:5000:10.0.2.15:5000")), 1);
        h.fromHost(toHost(REMOTE, Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 1234, 5000, new byte[4], true)));
        assertEquals(1, h.counters().drops(NatDrop.GUEST_UNRESOLVED));
        final byte[] arp = h.single(0);
        assertEquals(0x0806, Packets.u16(arp, 12));
        assertEquals(ip("10.0.2.15"), Packets.u32(arp, 38), "ARP for the forward's guest");
        h.lease(0);
        h.fromHost(toHost(REMOTE, Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 1234, 5000, new byte[4], true)));
        assertEquals(5000, Packets.Parsed.of(h.single(0)).destinationPort());
    }

    @Test
    void aGuestsPortUnreachableForAForwardedDatagramLeavesTranslated() {
        final GatewayHarness h = start(NatConfig.builder().forward(PortForward.parse("udp:5353:10.0.2.15:53")), 1);
        final int guest = h.lease(0);
        h.fromHost(toHost(REMOTE, Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 4000, 5353, new byte[10], true)));
        final Packets.Parsed in = Packets.Parsed.of(h.single(0));
        final byte[] quoted = Arrays.copyOfRange(in.frame(), 14, 14 + in.totalBytes());
        h.send(0, fromGuest(h, 0, guest, REMOTE, Packets.ICMP, Packets.icmpError(3, 3, quoted, quoted.length)));
        h.resolveNextHop();
        final Packets.Parsed error = hostIpv4(h).getFirst();
        assertEquals(HOST_ADDRESS, error.source());
        assertTrue(error.transportChecksumValid());
        final Packets.Parsed inner = error.quoted();
        assertEquals(HOST_ADDRESS, inner.destination(), "the quoted datagram shows the host address ...");
        assertEquals(5353, inner.destinationPort(), "... and the forwarded port");
        assertTrue(inner.ipChecksumValid());
        assertTrue(inner.transportChecksumValid());
    }

    @Test
    void fragmentsFollowTheirFirstFragmentBothWays() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final byte[] whole = Packets.udp(guest, REMOTE, 7000, 7, new byte[64], true);
        final byte[] first = Arrays.copyOfRange(whole, 0, 40);
        final byte[] rest = Arrays.copyOfRange(whole, 40, whole.length);
        h.send(0, new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, REMOTE).payload(Packets.UDP, first)
                .fragment(0x2000, 99).frame());
        h.resolveNextHop();
        h.send(0, new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, REMOTE).payload(Packets.UDP, rest)
                .fragment(5, 99).frame());
        final List<Packets.Parsed> out = hostIpv4(h);
        assertEquals(2, out.size());
        final byte[] reassembled = new byte[whole.length];
        System.arraycopy(out.get(0).frame(), 34, reassembled, 0, 40);
        System.arraycopy(out.get(1).frame(), 34, reassembled, 40, rest.length);
        assertEquals(HOST_ADDRESS, out.get(1).source(), "the later fragment's source translated too");
        assertTrue(out.get(0).ipChecksumValid() && out.get(1).ipChecksumValid());
        assertEquals(0xFFFF, Packets.sum(reassembled, 0, reassembled.length,
                Packets.pseudo(HOST_ADDRESS, REMOTE, 17, reassembled.length)), "the reassembled datagram verifies");
        assertEquals(1, h.counters().events(NatEvent.FRAGMENTS_TRANSLATED));
        final int port = out.get(0).sourcePort();
        final byte[] answer = Packets.udp(REMOTE, HOST_ADDRESS, 7, port, new byte[64], true);
        h.fromHost(new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(REMOTE, HOST_ADDRESS)
                .payload(Packets.UDP, Arrays.copyOfRange(answer, 40, answer.length)).fragment(5, 300).frame());
        assertEquals(1, h.counters().drops(NatDrop.FRAGMENT_UNTRACKED), "a later fragment before its first is dropped");
        h.fromHost(new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(REMOTE, HOST_ADDRESS)
                .payload(Packets.UDP, Arrays.copyOfRange(answer, 0, 40)).fragment(0x2000, 301).frame());
        h.fromHost(new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(REMOTE, HOST_ADDRESS)
                .payload(Packets.UDP, Arrays.copyOfRange(answer, 40, answer.length)).fragment(5, 301).frame());
        final List<byte[]> in = h.fromGateway(0);
        assertEquals(2, in.size());
        assertEquals(guest, Packets.Parsed.of(in.get(1)).destination());
        assertEquals(7000, Packets.Parsed.of(in.get(0)).destinationPort());
    }

    @Test
    void aPacketWhoseTtlRunsOutGetsATimeExceededFromTheGateway() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final byte[] probe = new Packets.Ip().macs(GATEWAY_MAC, h.mac(0)).addresses(guest, REMOTE).ttl(1)
                .payload(Packets.UDP, Packets.udp(guest, REMOTE, 33434, 33434, new byte[12], true)).frame();
        h.send(0, probe);
        assertEquals(1, h.counters().drops(NatDrop.TTL_EXPIRED));
        final Packets.Parsed error = Packets.Parsed.of(h.single(0));
        assertEquals(GATEWAY, error.source());
        assertEquals(guest, error.destination());
        assertEquals(11, error.icmpType());
        assertTrue(error.ipChecksumValid() && error.transportChecksumValid());
        assertArrayEquals(Arrays.copyOfRange(probe, 14, 14 + 28), Arrays.copyOfRange(error.frame(), error.l4() + 8,
                error.l4() + 8 + 28), "quotes the header and 8 bytes (RFC 792)");
        assertEquals(0, h.host.take().size());
    }

    @Test
    void theHostSideAddressAnswersArpAndPing() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        h.fromHost(Packets.arp(1, Packets.BROADCAST, NEXT_HOP_MAC, NEXT_HOP, new byte[6], HOST_ADDRESS));
        final byte[] arp = h.host.take().getFirst().bytes();
        assertEquals(2, Packets.u16(arp, 20));
        assertArrayEquals(HOST_MAC, Arrays.copyOfRange(arp, 22, 28));
        assertEquals(HOST_ADDRESS, Packets.u32(arp, 28));
        assertArrayEquals(NEXT_HOP_MAC, Arrays.copyOfRange(arp, 0, 6));
        h.fromHost(toHost(NEXT_HOP, Packets.ICMP, Packets.icmpEcho(8, 5, 6, new byte[40])));
        final Packets.Parsed reply = Packets.Parsed.of(h.host.take().getFirst().bytes());
        assertEquals(0, reply.icmpType());
        assertEquals(NEXT_HOP, reply.destination());
        assertEquals(HOST_ADDRESS, reply.source());
        assertTrue(reply.transportChecksumValid() && reply.ipChecksumValid());
        assertEquals(1, h.counters().events(NatEvent.ICMP_ECHO_REPLIES));
    }

    /**
     * Found by {@link NatFramesFuzzTest}: ARP on the host link that neither resolved a neighbour nor asked for the
     * gateway (another host's request, an unsolicited reply) was consumed without any count; an answer the link
     * refused was not counted either.
     */
    @Test
    void hostArpNotForTheGatewayIsCountedAndARefusedAnswerIsADrop() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        h.fromHost(Packets.arp(1, Packets.BROADCAST, NEXT_HOP_MAC, NEXT_HOP, new byte[6], ip("10.0.3.9")));
        h.fromHost(Packets.arp(2, HOST_MAC, Packets.mac("02:66:00:00:00:02"), ip("10.0.3.51"), HOST_MAC,
                HOST_ADDRESS));
        assertEquals(2, h.counters().events(NatEvent.HOST_ARP_OTHER));
        assertEquals(0, h.host.take().size(), "neither is answered");
        h.host.refuse = true;
        h.fromHost(Packets.arp(1, Packets.BROADCAST, NEXT_HOP_MAC, NEXT_HOP, new byte[6], HOST_ADDRESS));
        assertEquals(1, h.counters().drops(NatDrop.HOST_LINK_REFUSED), "the answer the link refused");
    }

    @Test
    void anOnLinkDestinationIsResolvedItselfNotThroughTheNextHop() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        final int onLink = ip("10.0.3.7");
        h.send(0, fromGuest(h, 0, guest, onLink, Packets.UDP, Packets.udp(guest, onLink, 1, 2, new byte[4], true)));
        final byte[] arp = h.host.take().getFirst().bytes();
        assertEquals(onLink, Packets.u32(arp, 38));
    }

    @Test
    void heldFramesAreDroppedWhenTheNextHopNeverAnswers() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        for (int i = 0; i < 10; i++) {
            h.send(0, syn(h, 0, guest, 45000 + i));
        }
        assertEquals(8, h.counters().events(NatEvent.FRAMES_HELD_FOR_ARP));
        assertEquals(2, h.counters().drops(NatDrop.NEXT_HOP_UNRESOLVED), "only a few frames wait");
        h.clock.addAndGet(h.config.timeouts().arpGiveUpNs());
        h.pump();
        assertEquals(10, h.counters().drops(NatDrop.NEXT_HOP_UNRESOLVED), "and not for ever");
        h.fromHost(Packets.arp(2, HOST_MAC, NEXT_HOP_MAC, NEXT_HOP, HOST_MAC, HOST_ADDRESS));
        assertEquals(0, hostIpv4(h).size());
    }

    @Test
    void anInboundPacketAfterItsFlowTimedOutIsDropped() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, fromGuest(h, 0, guest, REMOTE, Packets.UDP, Packets.udp(guest, REMOTE, 9999, 53, new byte[4], true)));
        h.resolveNextHop();
        final int port = hostIpv4(h).getFirst().sourcePort();
        h.clock.addAndGet(h.config.timeouts().udpUnrepliedNs());
        h.fromHost(toHost(REMOTE, Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 53, port, new byte[4], true)));
        assertEquals(0, h.fromGateway(0).size());
        assertEquals(1, h.counters().drops(NatDrop.NO_CONNECTION));
    }

    @Test
    void aRefusingHostLinkIsCounted() {
        final GatewayHarness h = start(NatConfig.builder(), 1);
        final int guest = h.lease(0);
        h.send(0, syn(h, 0, guest, 46000));
        h.resolveNextHop();
        h.host.take();
        h.host.refuse = true;
        h.send(0, syn(h, 0, guest, 46001));
        assertEquals(1, h.counters().drops(NatDrop.HOST_LINK_REFUSED));
    }
}

package io.vioplane.tap.nat;

import io.vioplane.platform.packet.Checksums;
import io.vioplane.virtionet.NetHeaderValues;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Incremental checksum updates (RFC 1624) and the rewrites built on them, each checked by recomputing the
 * checksum from scratch with the test's own implementation ({@link Packets}), over thousands of random packets.
 */
class ChecksumsTest {
    private static final int ROUNDS = 2_000;

    @Test
    void rfc1624Section4ExampleGivesZeroNotMinusZero() {
        assertEquals(0x0000, Checksums.update16(0xDD2F, 0x5555, 0x3285),
                "RFC 1624 section 4: equation 3 yields 0x0000 where equation 2 would give 0xFFFF");
    }

    @Test
    void update16MatchesAChecksumRecomputedFromScratch() {
        final SplittableRandom random = new SplittableRandom(1);
        for (int round = 0; round < ROUNDS; round++) {
            final byte[] data = new byte[2 * (2 + random.nextInt(40))];
            random.nextBytes(data);
            data[0] |= 1;
            final int field = 2 * random.nextInt(data.length / 2);
            final int before = Packets.checksum(data, 0, data.length, 0);
            final int oldWord = Packets.u16(data, field);
            final int newWord = random.nextInt(0x10000);
            Packets.put16(data, field, newWord);
            final int expected = Packets.checksum(data, 0, data.length, 0);
            assertEquals(expected, Checksums.update16(before, oldWord, newWord), "round " + round);
        }
    }

    @Test
    void update32MatchesAChecksumRecomputedFromScratch() {
        final SplittableRandom random = new SplittableRandom(2);
        for (int round = 0; round < ROUNDS; round++) {
            final byte[] data = new byte[4 * (2 + random.nextInt(20))];
            random.nextBytes(data);
            data[0] |= 1;
            final int field = 4 * random.nextInt(data.length / 4);
            final int before = Packets.checksum(data, 0, data.length, 0);
            final int oldValue = Packets.u32(data, field);
            final int newValue = random.nextInt();
            Packets.put32(data, field, newValue);
            assertEquals(Packets.checksum(data, 0, data.length, 0), Checksums.update32(before, oldValue, newValue));
        }
    }

    private static MemorySegment segment(final Arena arena, final byte[] frame) {
        final MemorySegment segment = arena.allocate(frame.length + 64);
        MemorySegment.copy(frame, 0, segment, ValueLayout.JAVA_BYTE, 0, frame.length);
        return segment;
    }

    private static byte[] bytes(final MemorySegment segment, final int length) {
        return segment.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] randomPacket(final SplittableRandom random, final int protocol, final int source,
                                       final int destination) {
        final byte[] data = new byte[random.nextInt(200)];
        random.nextBytes(data);
        final byte[] l4 = switch (protocol) {
            case Packets.TCP -> Packets.tcp(source, destination, random.nextInt(1, 65536), random.nextInt(1, 65536),
                    random.nextLong(), random.nextLong(), Packets.ACK, data);
            case Packets.UDP -> Packets.udp(source, destination, random.nextInt(1, 65536), random.nextInt(1, 65536),
                    data, true);
            default -> Packets.icmpEcho(8, random.nextInt(65536), random.nextInt(65536), data);
        };
        return new Packets.Ip().addresses(source, destination).payload(protocol, l4).ttl(random.nextInt(2,
                256)).frame();
    }

    @Test
    void sourceAndDestinationRewritesKeepEveryChecksumValid() {
        final SplittableRandom random = new SplittableRandom(3);
        final NetHeaderValues plain = new NetHeaderValues().clear();
        try (Arena arena = Arena.ofConfined()) {
            for (int round = 0; round < ROUNDS; round++) {
                final int protocol = new int[] {Packets.TCP, Packets.UDP, Packets.ICMP}[round % 3];
                final byte[] frame = randomPacket(random, protocol, random.nextInt(), random.nextInt());
                final MemorySegment segment = segment(arena, frame);
                final Ipv4Packet packet = new Ipv4Packet();
                assertNull(packet.parse(segment, 0, frame.length));
                assertNull(packet.parseTransport());
                assertTrue(packet.transportChecksumValid(plain, false));
                final int port = random.nextInt(1, 65536);
                if (random.nextBoolean()) {
                    NatRewriter.rewriteSource(packet, random.nextInt(), port, false);
                } else {
                    NatRewriter.rewriteDestination(packet, random.nextInt(), port, false);
                }
                NatRewriter.decrementTtl(packet);
                final Packets.Parsed parsed = Packets.Parsed.of(bytes(segment, frame.length));
                assertTrue(parsed.ipChecksumValid(), "IP header, round " + round);
                assertTrue(parsed.transportChecksumValid(), "transport " + protocol + ", round " + round);
            }
        }
    }

    @Test
    void aUdpChecksumOfZeroMeansNoneAndStaysZero() {
        try (Arena arena = Arena.ofConfined()) {
            final byte[] frame = new Packets.Ip().addresses(ip("10.0.2.15"), ip("192.0.2.9"))
                    .payload(Packets.UDP, Packets.udp(ip("10.0.2.15"), ip("192.0.2.9"), 5000, 53, new byte[33], false))
                    .frame();
            final MemorySegment segment = segment(arena, frame);
            final Ipv4Packet packet = new Ipv4Packet();
            assertNull(packet.parse(segment, 0, frame.length));
            assertNull(packet.parseTransport());
            NatRewriter.rewriteSource(packet, ip("10.0.3.2"), 61000, false);
            final Packets.Parsed parsed = Packets.Parsed.of(bytes(segment, frame.length));
            assertEquals(0, Packets.u16(parsed.frame(), parsed.l4() + 6), "RFC 768: zero stays zero (no checksum)");
            assertEquals(61000, parsed.sourcePort());
            assertTrue(parsed.ipChecksumValid());
        }
    }

    @Test
    void aUdpChecksumThatUpdatesToZeroIsSentAsAllOnes() {
        final int oldSource = ip("10.0.2.15");
        final int newSource = ip("10.0.3.2");
        final int destination = ip("192.0.2.9");
        final byte[] data = new byte[16];
        final byte[] translated = Packets.udp(newSource, destination, 7000, 53, data, false);
        final int sum = Packets.sum(translated, 0, translated.length, Packets.pseudo(newSource, destination, 17,
                translated.length));
        final int adjust = Checksums.fold((0xFFFFL - sum) & 0xFFFF);
        Packets.put16(data, 0, adjust);
        final byte[] check = Packets.udp(newSource, destination, 7000, 53, data, false);
        assertEquals(0xFFFF, Packets.sum(check, 0, check.length, Packets.pseudo(newSource, destination, 17,
                check.length)),
                "the translated datagram's checksum computes to zero");
        try (Arena arena = Arena.ofConfined()) {
            final byte[] frame = new Packets.Ip().addresses(oldSource, destination)
                    .payload(Packets.UDP, Packets.udp(oldSource, destination, 7000, 53, data, true)).frame();
            final MemorySegment segment = segment(arena, frame);
            final Ipv4Packet packet = new Ipv4Packet();
            assertNull(packet.parse(segment, 0, frame.length));
            assertNull(packet.parseTransport());
            NatRewriter.rewriteSource(packet, newSource, 7000, false);
            final Packets.Parsed parsed = Packets.Parsed.of(bytes(segment, frame.length));
            assertEquals(0xFFFF, Packets.u16(parsed.frame(), parsed.l4() + 6),
                    "RFC 768: a computed zero is sent as 0xFFFF");
            assertTrue(parsed.transportChecksumValid());
        }
    }

    /** Completes a partial checksum as the device would: sum from csum_start to the end, store the complement. */
    private static void completeAsTheDeviceWould(final byte[] frame, final int start, final int offset) {
        final int totalBytes = Packets.u16(frame, 16);
        final int end = 14 + totalBytes;
        Packets.put16(frame, start + offset, Packets.checksum(frame, start, end - start, 0));
    }

    @Test
    void partialChecksumsGetTheirPseudoHeaderUpdatedAndCompleteCorrectly() {
        final SplittableRandom random = new SplittableRandom(4);
        try (Arena arena = Arena.ofConfined()) {
            for (int round = 0; round < ROUNDS; round++) {
                final int protocol = round % 2 == 0 ? Packets.TCP : Packets.UDP;
                final int source = random.nextInt();
                final int destination = random.nextInt();
                final byte[] frame = randomPacket(random, protocol, source, destination);
                final int l4 = 14 + 20;
                final int l4Bytes = Packets.u16(frame, 16) - 20;
                final int field = protocol == Packets.TCP ? 16 : 6;
                Packets.put16(frame, l4 + field, Packets.sum(new byte[0], 0, 0,
                        Packets.pseudo(source, destination, protocol, l4Bytes)));
                final MemorySegment segment = segment(arena, frame);
                final NetHeaderValues header = new NetHeaderValues().clear().needsChecksum(l4, field);
                final Ipv4Packet packet = new Ipv4Packet();
                assertNull(packet.parse(segment, 0, frame.length));
                assertNull(packet.parseTransport());
                assertNull(packet.checkOffload(header, frame.length));
                final int port = random.nextInt(1, 65536);
                if (random.nextBoolean()) {
                    NatRewriter.rewriteSource(packet, random.nextInt(), port, true);
                } else {
                    NatRewriter.rewriteDestination(packet, random.nextInt(), port, true);
                }
                final byte[] out = bytes(segment, frame.length);
                completeAsTheDeviceWould(out, l4, field);
                final Packets.Parsed parsed = Packets.Parsed.of(out);
                assertTrue(parsed.ipChecksumValid());
                assertTrue(parsed.transportChecksumValid(), "completed partial checksum, round " + round);
            }
        }
    }

    @Test
    void laterFragmentsGetOnlyTheirAddressAndIpChecksumChanged() {
        try (Arena arena = Arena.ofConfined()) {
            final byte[] payload = new byte[64];
            new SplittableRandom(5).nextBytes(payload);
            final byte[] frame = new Packets.Ip().addresses(ip("10.0.2.15"), ip("192.0.2.1")).payload(Packets.UDP,
                    payload)
                    .fragment(185, 77).frame();
            final MemorySegment segment = segment(arena, frame);
            final Ipv4Packet packet = new Ipv4Packet();
            assertNull(packet.parse(segment, 0, frame.length));
            assertNull(packet.parseTransport());
            assertFalse(packet.hasTransport);
            NatRewriter.rewriteSource(packet, ip("10.0.3.2"), 0, false);
            final byte[] out = bytes(segment, frame.length);
            assertArrayEquals(payload, java.util.Arrays.copyOfRange(out, 34, 34 + 64), "payload untouched");
            assertTrue(Packets.Parsed.of(out).ipChecksumValid());
            assertEquals(ip("10.0.3.2"), Packets.u32(out, 26));
        }
    }
}

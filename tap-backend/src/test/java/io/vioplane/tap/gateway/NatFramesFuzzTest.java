package io.vioplane.tap.gateway;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.BridgeMember;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.Packets;
import io.vioplane.tap.nat.PortForward;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import static io.vioplane.tap.gateway.GatewayHarness.*;
import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Coverage-guided fuzzing (Jazzer) of the NAT gateway with frames from both sides: each input is a sequence of
 * frames that guests send to the gateway (through its bridge port) and that the host link delivers to it, each built
 * from a template that reaches a real path (DHCP, ARP, ICMP echo, TCP/UDP/ICMP flows to the outside, fragments;
 * from the host: answers to the last translated packet, ICMP errors quoting it, port forwards, ARP) and then broken
 * by the fuzzer (bytes overwritten, checksums refreshed or not, cut or padded, offload fields in the virtio-net
 * header), with the injected clock moved between frames and the host link refusing frames at times.
 *
 * <p>Invariants, checked after every frame:
 * <ul>
 *   <li>nothing escapes: no exception from {@link NatGateway#egress}, {@link NatGateway#poll} or the flush;</li>
 *   <li>every frame is accounted for: it moved at least one outcome counter of the gateway (a {@link NatDrop}
 *       reason, or an {@link NatEvent} saying it was forwarded, held, answered or consumed);</li>
 *   <li>nothing is written outside the frame: a guest's frame is never written (it is the driver's buffer), and in
 *       the host link's receive buffer the headroom before and the bytes after the frame keep their canary;</li>
 *   <li>what leaves is sane: frames toward guests and the host are at least an Ethernet header and at most the
 *       MTU (unless they are GSO frames), and every IPv4 packet the gateway sends without a checksum offload has a
 *       valid IPv4 header checksum.</li>
 * </ul>
 *
 * <p>The gateway lives across inputs (building one costs far more than an input) and is rebuilt every
 * {@link #INPUTS_PER_WORLD} inputs, so state such as connections, leases and held frames carries from one input to
 * the next, as in a real gateway. A finding is turned into a named test in {@link HostileInputTest} or
 * {@link NatTranslationTest}. Run normally, the target replays its stored inputs; with {@code JAZZER_FUZZ=1} it
 * fuzzes for the annotation's time ({@code scripts/fuzz-deep.sh} runs it for a number of executions).
 */
class NatFramesFuzzTest {
    private static final int INPUTS_PER_WORLD = 4096;
    private static final int REMOTE = ip("192.0.2.80");
    private static final int OTHER_HOST = ip("10.0.3.77");
    private static final byte[] OTHER_MAC = Packets.mac("02:00:00:00:03:77");
    private static final int CANARY_BYTES = 64;
    private static final byte CANARY = (byte) 0xA5;
    private static final long[] CLOCK_STEPS_NS = {0, 1_000_000L, 1_000_000_000L, 30_000_000_000L, 300_000_000_000L,
            7_200_000_000_000L, 172_800_000_000_000L};

    private static World world;
    private static int inputs;

    /** A guest as the bridge sees it: takes every frame the bridge sends it and checks it. */
    private static final class FuzzGuest implements BridgeMember {
        private final String name;
        private final int maxFrameBytes;
        long received;

        FuzzGuest(final String name, final int mtu) {
            this.name = name;
            this.maxFrameBytes = mtu + 18;
        }

        @Override
        public boolean egress(final TxFrame frame) {
            final int length = frame.lengthBytes();
            assertTrue(length >= 14, name + ": the gateway sent a frame of " + length + " bytes");
            assertTrue(length <= maxFrameBytes || frame.header().isGso(), name + ": the gateway sent " + length
                    + " bytes, above the MTU, without GSO");
            final byte[] bytes = new byte[length];
            assertEquals(length, frame.copyTo(0, MemorySegment.ofArray(bytes), 0, length));
            checkIpv4(bytes, frame.header(), name);
            received++;
            return true;
        }

        @Override
        public int maxFrameBytes() {
            return maxFrameBytes;
        }

        @Override
        public String name() {
            return name;
        }
    }

    /**
     * The host side: frames queued by the target are read by the gateway into its receive buffer, around which the
     * link lays canaries; frames the gateway sends are checked and kept as templates for answers.
     */
    private static final class FuzzHostLink implements HostLink {
        byte[] queued;
        NetHeaderValues queuedHeader = new NetHeaderValues();
        boolean refuse;
        long sent;
        byte[] lastIpv4Sent;
        MemorySegment lastBuffer;
        long lastFrameOffset;
        int lastLength;

        @Override
        public boolean send(final NetHeaderValues header, final MemorySegment frame, final long offset,
                            final int lengthBytes) {
            assertTrue(lengthBytes >= 14, "the gateway sent the host " + lengthBytes + " bytes");
            assertTrue(lengthBytes <= NatGateway.MAX_FRAME_BYTES, "the gateway sent the host " + lengthBytes
                    + " bytes");
            final byte[] bytes = new byte[lengthBytes];
            MemorySegment.copy(frame, ValueLayout.JAVA_BYTE, offset, bytes, 0, lengthBytes);
            checkIpv4(bytes, header, "host link");
            if (refuse) {
                return false;
            }
            sent++;
            if (Packets.u16(bytes, 12) == 0x0800) {
                lastIpv4Sent = bytes;
            }
            return true;
        }

        @Override
        public int receive(final MemorySegment buffer, final long frameOffset, final int capacityBytes,
                           final NetHeaderValues header) {
            if (queued == null) {
                return 0;
            }
            final int length = Math.min(queued.length, capacityBytes);
            final long guardEnd = Math.min(buffer.byteSize(), frameOffset + length + CANARY_BYTES);
            buffer.asSlice(0, frameOffset).fill(CANARY);
            MemorySegment.copy(queued, 0, buffer, ValueLayout.JAVA_BYTE, frameOffset, length);
            buffer.asSlice(frameOffset + length, guardEnd - frameOffset - length).fill(CANARY);
            header.copyFrom(queuedHeader);
            queued = null;
            lastBuffer = buffer;
            lastFrameOffset = frameOffset;
            lastLength = length;
            return length;
        }

        /** Fails if the gateway wrote into the headroom or past the frame it was given. */
        void checkCanaries() {
            if (lastBuffer == null) {
                return;
            }
            for (long i = 0; i < lastFrameOffset; i++) {
                assertEquals(CANARY, lastBuffer.get(ValueLayout.JAVA_BYTE, i), "the gateway wrote into the headroom"
                        + " before the host frame, at " + i);
            }
            final long end = Math.min(lastBuffer.byteSize(), lastFrameOffset + lastLength + CANARY_BYTES);
            for (long i = lastFrameOffset + lastLength; i < end; i++) {
                assertEquals(CANARY, lastBuffer.get(ValueLayout.JAVA_BYTE, i), "the gateway wrote past the host"
                        + " frame of " + lastLength + " bytes, at " + (i - lastFrameOffset));
            }
            lastBuffer = null;
        }

        @Override
        public String name() {
            return "fuzz-host";
        }

        @Override
        public void close() {
        }
    }

    /** One gateway with its bridge, two guests (guest 0 leased 10.0.2.15) and a resolved next hop. */
    private static final class World implements AutoCloseable {
        final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
        final Counters counters = Counters.inMemory(512);
        final Bridge bridge = new Bridge("fuzz", counters, 64, Bridge.DEFAULT_AGING_NS, clock::get);
        final FuzzHostLink link = new FuzzHostLink();
        final FuzzGuest[] guests = {new FuzzGuest("vm0", 1500), new FuzzGuest("vm1", 1500)};
        final byte[][] macs = {Packets.mac("02:00:00:00:00:01"), Packets.mac("02:00:00:00:00:02")};
        final int[] addresses = {ip("10.0.2.15"), ip("10.0.2.16")};
        final NatGateway gateway;
        final Arena arena = Arena.ofConfined();
        final MemorySegment guestBuffer = arena.allocate(NatGateway.MAX_FRAME_BYTES + 64L);
        final BufferTxFrame guestFrame = new BufferTxFrame();

        World() {
            for (FuzzGuest guest : guests) {
                bridge.join(guest, null);
            }
            final NatConfig config = NatConfig.builder().connectionCapacity(64).perGuestConnectionLimit(24)
                    .leasePoolSize(4).forward(PortForward.parse("tcp:8080:10.0.2.15:80"))
                    .forward(PortForward.parse("udp:5353:10.0.2.16:53"))
                    .nat(TAP, new Ipv4Address(HOST_ADDRESS), 24, new Ipv4Address(NEXT_HOP)).build();
            gateway = new NatGateway("fuzz", config, bridge, link, counters, clock::get, null);
            for (int g = 0; g < 2; g++) {
                fromGuest(g, Dhcp.discover(macs[g], 0x100 + g, false, null), new NetHeaderValues().clear());
                fromGuest(g, Dhcp.request(macs[g], 0x100 + g, addresses[g], GATEWAY, false),
                        new NetHeaderValues().clear());
            }
            fromGuest(0, udpToRemote(0, 4000, 9, new byte[8]), new NetHeaderValues().clear());
            fromHost(Packets.arp(2, HOST_MAC, NEXT_HOP_MAC, NEXT_HOP, HOST_MAC, HOST_ADDRESS),
                    new NetHeaderValues().clear());
        }

        byte[] udpToRemote(final int guest, final int sourcePort, final int destinationPort, final byte[] data) {
            return new Packets.Ip().macs(GATEWAY_MAC, macs[guest]).addresses(addresses[guest], REMOTE)
                    .payload(Packets.UDP, Packets.udp(addresses[guest], REMOTE, sourcePort, destinationPort, data,
                            true)).frame();
        }

        long outcomes() {
            long sum = gateway.counters().totalDrops();
            for (NatEvent event : NatEvent.values()) {
                if (event != NatEvent.GUEST_TO_HOST_BYTES && event != NatEvent.HOST_TO_GUEST_BYTES
                        && event != NatEvent.CONNECTIONS_OPENED && event != NatEvent.CONNECTIONS_EXPIRED
                        && event != NatEvent.CONNECTIONS_EVICTED && event != NatEvent.GUEST_ARP_REQUESTS
                        && event != NatEvent.HOST_ARP_REQUESTS && event != NatEvent.ICMP_ERRORS_SENT) {
                    sum += gateway.counters().events(event);
                }
            }
            return sum;
        }

        /** A guest sends {@code frame}: the bridge hands it to the gateway, whose replies then go out. */
        void fromGuest(final int guest, final byte[] frame, final NetHeaderValues header) {
            final int length = Math.min(frame.length, (int) guestBuffer.byteSize());
            MemorySegment.copy(frame, 0, guestBuffer, ValueLayout.JAVA_BYTE, 0, length);
            guestFrame.wrap(guestBuffer, 0, length).headerHolder().copyFrom(header);
            final long before = outcomes();
            gateway.egress(guestFrame);
            gateway.flush();
            gateway.poll();
            assertTrue(outcomes() > before, () -> "guest " + guest + "'s frame left no count: "
                    + describe(frame, header));
            for (int i = 0; i < length; i++) {
                if (guestBuffer.get(ValueLayout.JAVA_BYTE, i) != frame[i]) {
                    fail("the gateway wrote into the guest's frame at " + i + ": " + describe(frame, header));
                }
            }
        }

        /** The host link delivers {@code frame} (a link has no empty frames: one of no bytes is not sent). */
        void fromHost(final byte[] frame, final NetHeaderValues header) {
            if (frame.length == 0) {
                return;
            }
            link.queued = frame;
            link.queuedHeader.copyFrom(header);
            final long before = outcomes();
            gateway.poll();
            link.checkCanaries();
            assertTrue(outcomes() > before, () -> "the host's frame left no count: " + describe(frame, header));
        }

        @Override
        public void close() {
            gateway.close();
            arena.close();
        }
    }

    private static String describe(final byte[] frame, final NetHeaderValues header) {
        return header + " " + java.util.HexFormat.of().formatHex(frame, 0, Math.min(frame.length, 96))
                + (frame.length > 96 ? "... (" + frame.length + " bytes)" : "");
    }

    /** Checks the IPv4 header checksum of a frame the gateway made, unless an offload leaves it to the receiver. */
    private static void checkIpv4(final byte[] frame, final NetHeaderValues header, final String where) {
        if (frame.length < 34 || Packets.u16(frame, 12) != 0x0800 || header.isGso()) {
            return;
        }
        final int headerBytes = (frame[14] & 0xF) * 4;
        if (headerBytes < 20 || 14 + headerBytes > frame.length) {
            fail(where + ": the gateway sent an IPv4 header of " + headerBytes + " bytes in a frame of "
                    + frame.length);
        }
        assertEquals(0xFFFF, Packets.sum(frame, 14, headerBytes, 0), () -> where
                + ": the gateway sent an IPv4 header with a wrong checksum: " + describe(frame, header));
    }

    @FuzzTest(maxDuration = "30s")
    void gatewaySurvivesAnyFrameSequence(final FuzzedDataProvider data) {
        if (world == null || inputs++ % INPUTS_PER_WORLD == 0) {
            if (world != null) {
                world.close();
            }
            world = new World();
        }
        final World w = world;
        final int steps = data.consumeInt(1, 8);
        for (int step = 0; step < steps && data.remainingBytes() > 0; step++) {
            w.clock.addAndGet(CLOCK_STEPS_NS[data.consumeInt(0, CLOCK_STEPS_NS.length - 1)]);
            w.link.refuse = data.consumeInt(0, 15) == 0;
            final NetHeaderValues header = header(data);
            if (data.consumeBoolean()) {
                final int guest = data.consumeInt(0, 1);
                w.fromGuest(guest, mutate(guestTemplate(w, guest, data), data), header);
            } else {
                w.fromHost(mutate(hostTemplate(w, data), data), header);
            }
        }
    }

    private static NetHeaderValues header(final FuzzedDataProvider data) {
        final NetHeaderValues header = new NetHeaderValues().clear();
        switch (data.consumeInt(0, 7)) {
            case 0 -> header.needsChecksum(data.consumeInt(0, 80), data.consumeInt(0, 20));
            case 1 -> header.needsChecksum(34, data.pickValue(new int[] {6, 16})).gso(data.pickValue(new int[]
                    {VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.GSO_UDP, VirtioNetHeader.GSO_TCPV6, 7}),
                    data.consumeInt(0, 9000), data.consumeInt(0, 128));
            case 2 -> header.checksumComplete(true);
            default -> {
            }
        }
        return header;
    }

    private static byte[] guestTemplate(final World w, final int guest, final FuzzedDataProvider data) {
        final byte[] mac = w.macs[guest];
        final int source = w.addresses[guest];
        final int sourcePort = data.consumeInt(1, 65535);
        final int remotePort = data.pickValue(new int[] {80, 53, 9, 443, data.consumeInt(0, 65535)});
        final byte[] payload = data.consumeBytes(data.consumeInt(0, 64));
        final Packets.Ip ip = new Packets.Ip().macs(GATEWAY_MAC, mac).addresses(source, REMOTE);
        return switch (data.consumeInt(0, 13)) {
            case 0 -> w.udpToRemote(guest, sourcePort, remotePort, payload);
            case 1 -> ip.payload(Packets.TCP, Packets.tcp(source, REMOTE, sourcePort, remotePort, data.consumeInt(),
                    0, Packets.SYN, new byte[0])).frame();
            case 2 -> ip.payload(Packets.TCP, Packets.tcp(source, REMOTE, sourcePort, remotePort, data.consumeInt(),
                    data.consumeInt(), data.consumeInt(0, 0x3F), payload)).frame();
            case 3 -> ip.payload(Packets.ICMP, Packets.icmpEcho(8, data.consumeInt(0, 65535), 1, payload)).frame();
            case 4 -> new Packets.Ip().macs(GATEWAY_MAC, mac).addresses(source, GATEWAY)
                    .payload(Packets.ICMP, Packets.icmpEcho(8, 7, data.consumeInt(0, 65535), payload)).frame();
            case 5 -> Packets.arp(1, Packets.BROADCAST, mac, source, new byte[6], data.pickValue(new int[]
                    {GATEWAY, w.addresses[1 - guest], data.consumeInt()}));
            case 6 -> Packets.arp(2, w.macs[1 - guest], mac, source, w.macs[1 - guest], w.addresses[1 - guest]);
            case 7 -> Dhcp.discover(mac, data.consumeInt(), data.consumeBoolean(), data.consumeBoolean()
                    ? payload : null);
            case 8 -> Dhcp.request(mac, data.consumeInt(), data.pickValue(new int[] {source, w.addresses[1 - guest],
                    data.consumeInt()}), data.consumeBoolean() ? GATEWAY : data.consumeInt(), data.consumeBoolean());
            case 9 -> data.consumeBoolean() ? Dhcp.release(mac, data.consumeInt(), source)
                    : Dhcp.renew(mac, data.consumeInt(), source);
            case 10 -> ip.payload(data.pickValue(new int[] {Packets.UDP, Packets.TCP, Packets.ICMP}),
                    payload.length < 8 ? Arrays.copyOf(payload, 8) : payload)
                    .fragment(data.pickValue(new int[] {0x2000, 0x2000 | data.consumeInt(1, 0x1FFF),
                            data.consumeInt(1, 0x1FFF)}), data.consumeInt(0, 65535)).frame();
            case 11 -> ip.ttl(data.consumeInt(0, 2)).payload(Packets.UDP, Packets.udp(source, REMOTE, sourcePort,
                    remotePort, payload, true)).frame();
            case 12 -> {
                final byte[] frame = w.udpToRemote(guest, sourcePort, remotePort, payload);
                System.arraycopy(data.pickValue(new byte[][] {w.macs[1 - guest], OTHER_MAC, Packets.BROADCAST}), 0,
                        frame, 0, 6);
                yield frame;
            }
            default -> data.consumeBytes(data.consumeInt(0, 1600));
        };
    }

    private static byte[] hostTemplate(final World w, final FuzzedDataProvider data) {
        final byte[] last = w.link.lastIpv4Sent;
        final int choice = data.consumeInt(0, 9);
        if (last != null && last.length >= 42 && choice <= 2) {
            return answer(last, choice, data);
        }
        final byte[] payload = data.consumeBytes(data.consumeInt(0, 64));
        final int source = data.pickValue(new int[] {REMOTE, OTHER_HOST, data.consumeInt()});
        final Packets.Ip ip = new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(source, HOST_ADDRESS);
        return switch (choice) {
            case 3 -> ip.payload(Packets.TCP, Packets.tcp(source, HOST_ADDRESS, data.consumeInt(1, 65535), 8080,
                    data.consumeInt(), 0, Packets.SYN, new byte[0])).frame();
            case 4 -> ip.payload(Packets.UDP, Packets.udp(source, HOST_ADDRESS, data.consumeInt(1, 65535), 5353,
                    payload, data.consumeBoolean())).frame();
            case 5 -> Packets.arp(data.consumeInt(1, 2), data.consumeBoolean() ? Packets.BROADCAST : HOST_MAC,
                    data.pickValue(new byte[][] {NEXT_HOP_MAC, OTHER_MAC}), data.pickValue(new int[] {NEXT_HOP,
                            OTHER_HOST, data.consumeInt()}), HOST_MAC, data.pickValue(new int[] {HOST_ADDRESS,
                            OTHER_HOST, data.consumeInt()}));
            case 6 -> ip.payload(Packets.ICMP, Packets.icmpEcho(8, data.consumeInt(0, 65535), 1, payload)).frame();
            case 7 -> ip.payload(data.consumeInt(0, 255), payload).frame();
            default -> data.consumeBytes(data.consumeInt(0, 1600));
        };
    }

    /** An answer from the outside to the last packet the gateway translated: a reply, an ICMP error, a fragment. */
    private static byte[] answer(final byte[] last, final int kind, final FuzzedDataProvider data) {
        final Packets.Parsed out = Packets.Parsed.of(last);
        final int totalBytes = Math.min(out.totalBytes(), last.length - 14);
        if (out.headerBytes() < 20 || 14 + out.headerBytes() + 8 > last.length || totalBytes < out.headerBytes()) {
            return last.clone();
        }
        final byte[] payload = data.consumeBytes(data.consumeInt(0, 32));
        final Packets.Ip ip = new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(out.destination(), out.source());
        if (kind == 1) {
            final byte[] quoted = Arrays.copyOfRange(last, 14, 14 + totalBytes);
            final int quoteBytes = Math.min(quoted.length, data.consumeInt(0, out.headerBytes() + 8 + 8));
            return new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(data.pickValue(new int[]
                    {out.destination(), NEXT_HOP}), out.source()).payload(Packets.ICMP, Packets.icmpError(
                    data.pickValue(new int[] {3, 11, 12, 5}), data.consumeInt(0, 4), quoted, quoteBytes)).frame();
        }
        final Packets.Ip answer = kind == 2 ? ip.fragment(data.consumeInt(1, 0x1FFF), Packets.u16(last, 18)) : ip;
        return switch (out.protocol()) {
            case Packets.TCP -> answer.payload(Packets.TCP, Packets.tcp(out.destination(), out.source(),
                    out.destinationPort(), out.sourcePort(), data.consumeInt(), (out.sequence() + 1),
                    data.pickValue(new int[] {Packets.SYN | Packets.ACK, Packets.ACK, Packets.RST, Packets.FIN
                            | Packets.ACK}), payload)).frame();
            case Packets.UDP -> answer.payload(Packets.UDP, Packets.udp(out.destination(), out.source(),
                    out.destinationPort(), out.sourcePort(), payload, true)).frame();
            case Packets.ICMP -> answer.payload(Packets.ICMP, Packets.icmpEcho(0, out.sourcePort(), 1, payload))
                    .frame();
            default -> last.clone();
        };
    }

    /**
     * Breaks a template: a few bytes overwritten, then (or not) the IPv4 and transport checksums recomputed so the
     * damage reaches past them, then (or not) the frame cut or padded.
     */
    private static byte[] mutate(final byte[] template, final FuzzedDataProvider data) {
        byte[] frame = template;
        final int writes = data.consumeInt(0, 4);
        for (int i = 0; i < writes && frame.length > 0; i++) {
            frame[data.consumeInt(0, frame.length - 1)] = data.consumeByte();
        }
        if (frame.length >= 34 && Packets.u16(frame, 12) == 0x0800 && data.consumeBoolean()) {
            refreshChecksums(frame);
        }
        switch (data.consumeInt(0, 5)) {
            case 0 -> frame = Arrays.copyOf(frame, data.consumeInt(0, frame.length));
            case 1 -> frame = Arrays.copyOf(frame, frame.length + data.consumeInt(1, 1600));
            default -> {
            }
        }
        return frame;
    }

    /** Recomputes the transport checksum (TCP, UDP, ICMP, as the header claims) and then the IPv4 one. */
    private static void refreshChecksums(final byte[] frame) {
        final int headerBytes = (frame[14] & 0xF) * 4;
        final int totalBytes = Packets.u16(frame, 16);
        final int l4 = 14 + headerBytes;
        final int end = 14 + totalBytes;
        final boolean fragment = (Packets.u16(frame, 20) & 0x3FFF) != 0;
        if (headerBytes >= 20 && end <= frame.length && l4 <= end && !fragment) {
            final int length = end - l4;
            final int source = Packets.u32(frame, 26);
            final int destination = Packets.u32(frame, 30);
            switch (frame[23] & 0xFF) {
                case Packets.TCP -> {
                    if (length >= 20) {
                        Packets.put16(frame, l4 + 16, 0);
                        Packets.put16(frame, l4 + 16, Packets.checksum(frame, l4, length,
                                Packets.pseudo(source, destination, Packets.TCP, length)));
                    }
                }
                case Packets.UDP -> {
                    if (length >= 8) {
                        Packets.put16(frame, l4 + 6, 0);
                        final int value = Packets.checksum(frame, l4, length,
                                Packets.pseudo(source, destination, Packets.UDP, length));
                        Packets.put16(frame, l4 + 6, value == 0 ? 0xFFFF : value);
                    }
                }
                case Packets.ICMP -> {
                    if (length >= 8) {
                        Packets.put16(frame, l4 + 2, 0);
                        Packets.put16(frame, l4 + 2, Packets.checksum(frame, l4, length, 0));
                    }
                }
                default -> {
                }
            }
        }
        if (headerBytes >= 20 && 14 + headerBytes <= frame.length) {
            Packets.refreshIpChecksum(frame);
        }
    }

    /** The set-up the target starts from: both guests leased, the next hop resolved, a first packet out. */
    @org.junit.jupiter.api.Test
    void setUpLeasesBothGuestsAndReachesTheHost() {
        try (World w = new World()) {
            assertEquals(2, w.gateway.counters().events(NatEvent.DHCP_ACKS));
            assertEquals(1, w.gateway.counters().events(NatEvent.GUEST_TO_HOST_PACKETS));
            assertEquals(0, w.gateway.counters().totalDrops());
        }
    }
}

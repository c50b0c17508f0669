package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.Packets;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

import static io.vioplane.tap.gateway.GatewayHarness.*;
import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The forwarding path allocates nothing per frame: after warm-up, a hundred thousand translations each way
 * (guest to host through {@link NatGateway#egress}, host to guest through {@link NatGateway#poll}) allocate no
 * heap memory on the data-plane thread (measured with the JVM's per-thread allocation counter).
 */
class ForwardingAllocationTest {
    private static final int GUEST = ip("10.0.2.15");
    private static final int REMOTE = ip("192.0.2.80");

    /** A host link that takes every frame and hands the gateway one prepared frame per receive while armed. */
    private static final class LoopLink implements HostLink {
        private final MemorySegment frame;
        private final int length;
        private final NetHeaderValues header = new NetHeaderValues().clear();
        long sent;
        boolean armed;

        LoopLink(final MemorySegment frame, final int length) {
            this.frame = frame;
            this.length = length;
        }

        @Override
        public boolean send(final NetHeaderValues values, final MemorySegment bytes, final long offset,
                            final int lengthBytes) {
            sent++;
            return true;
        }

        @Override
        public int receive(final MemorySegment buffer, final long frameOffset, final int capacityBytes,
                           final NetHeaderValues values) {
            if (!armed) {
                return 0;
            }
            armed = false;
            MemorySegment.copy(frame, 0, buffer, frameOffset, length);
            values.copyFrom(header);
            return length;
        }

        @Override
        public String name() {
            return "loop";
        }

        @Override
        public void close() {
        }
    }

    private static MemorySegment offHeap(final Arena arena, final byte[] bytes) {
        final MemorySegment segment = arena.allocate(bytes.length);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return segment;
    }

    @Test
    void translatingBothWaysAllocatesNothingPerFrame() {
        final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeAllocationCounting(threads);
        final Counters counters = Counters.inMemory(512);
        final AtomicLong clock = new AtomicLong(1_000_000_000L);
        final Bridge bridge = new Bridge("alloc", counters, 64, Bridge.DEFAULT_AGING_NS, clock::get);
        final NatConfig config = NatConfig.builder().enforceLeasedSource(false)
                .nat(TAP, new Ipv4Address(HOST_ADDRESS), 24, new Ipv4Address(NEXT_HOP)).build();
        try (Arena arena = Arena.ofConfined();
             GuestBridgePort guestPort = new GuestBridgePort("vm", bridge, 1500, null, 64)) {
            final byte[] guestMac = Packets.mac("02:00:00:00:00:01");
            final byte[] out = new Packets.Ip().macs(GATEWAY_MAC, guestMac).addresses(GUEST, REMOTE)
                    .payload(Packets.UDP, Packets.udp(GUEST, REMOTE, 5000, 53, new byte[512], true)).frame();
            final byte[] in = new Packets.Ip().macs(HOST_MAC, NEXT_HOP_MAC).addresses(REMOTE, HOST_ADDRESS)
                    .payload(Packets.UDP, Packets.udp(REMOTE, HOST_ADDRESS, 53, 5000, new byte[512], true)).frame();
            final byte[] arpReply = Packets.arp(2, HOST_MAC, NEXT_HOP_MAC, NEXT_HOP, HOST_MAC, HOST_ADDRESS);
            final MemorySegment outSegment = offHeap(arena, out);
            final LoopLink link = new LoopLink(offHeap(arena, in), in.length);
            final BufferTxFrame frame = new BufferTxFrame();
            try (NatGateway gateway = new NatGateway("alloc", config, bridge, link, counters, clock::get, null)) {
                gateway.egress(frame.wrap(outSegment, 0, out.length));
                final LoopLink arp = link;
                final MemorySegment arpSegment = offHeap(arena, arpReply);
                final HostSide host = gateway.hostSide();
                MemorySegment.copy(arpSegment, 0, host.buffer(), HostLink.HEADROOM_BYTES, arpReply.length);
                host.handle(arpReply.length, clock.get());
                for (int i = 0; i < 200_000; i++) {
                    roundTrip(gateway, arp, frame, outSegment, out.length, clock);
                }
                final long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 100_000; i++) {
                    roundTrip(gateway, arp, frame, outSegment, out.length, clock);
                }
                final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                System.out.println("forwarding allocated " + allocated + " bytes over 200000 frames");
                assertTrue(allocated < 4096, "allocated " + allocated + " bytes over 200000 frames");
                assertEquals(300_001, gateway.counters().events(NatEvent.GUEST_TO_HOST_PACKETS));
                assertEquals(300_000, gateway.counters().events(NatEvent.HOST_TO_GUEST_PACKETS));
                assertEquals(0, gateway.counters().totalDrops(), NatNetnsTest.describe(gateway.counters()));
                assertTrue(bridge.counters(guestPort.index()).outPackets() > 0,
                        "translated frames reached the guest port");
            }
        }
    }

    private static void roundTrip(final NatGateway gateway, final LoopLink link, final BufferTxFrame frame,
                                  final MemorySegment out, final int length, final AtomicLong clock) {
        clock.addAndGet(1_000);
        gateway.egress(frame.wrap(out, 0, length));
        link.armed = true;
        gateway.poll();
    }

    private static void assumeAllocationCounting(final com.sun.management.ThreadMXBean threads) {
        org.junit.jupiter.api.Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported(),
                "the JVM cannot count allocations per thread");
        threads.setThreadAllocatedMemoryEnabled(true);
    }
}

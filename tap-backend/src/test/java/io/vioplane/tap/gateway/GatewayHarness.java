package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.Packets;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.testkit.TestNetGuest;
import io.vioplane.vring.VirtioFeature;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test guests (each a {@link TestNetGuest}: its own guest memory, real rings and virtio-net device) on a real
 * {@link Bridge} with a {@link NatGateway}, an injected clock, and in NAT mode a {@link FrameQueueLink} the test
 * plays as the host side.
 */
final class GatewayHarness implements AutoCloseable {
    static final String TAP = "vptest0";
    static final int HOST_ADDRESS = Packets.ip("10.0.3.2");
    static final int NEXT_HOP = Packets.ip("10.0.3.1");
    static final byte[] NEXT_HOP_MAC = Packets.mac("02:00:00:00:03:01");
    static final int GATEWAY = Packets.ip("10.0.2.2");
    static final byte[] GATEWAY_MAC = Packets.mac("52:55:0a:00:02:02");
    static final byte[] HOST_MAC = Packets.mac("52:56:00:00:00:01");
    static final long FEATURES = VirtioFeature.bit(VirtioNetFeature.CSUM)
            | VirtioFeature.bit(VirtioNetFeature.GUEST_CSUM)
            | VirtioFeature.bit(VirtioNetFeature.HOST_TSO4) | VirtioFeature.bit(VirtioNetFeature.GUEST_TSO4);
    private static final int RX_BUFFER_BYTES = 65_600;
    private static final int RX_BUFFERS = 32;

    /** One test guest on the bridge. */
    record Guest(TestNetGuest net, GuestBridgePort port, byte[] mac) {
    }

    /** A frame a guest received and its offload header. */
    record Received(byte[] frame, NetHeaderValues header) {
    }

    final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    final Counters counters = Counters.inMemory(1024);
    final Bridge bridge = new Bridge("nat-test", counters, 64, Bridge.DEFAULT_AGING_NS, clock::get);
    final NatGateway gateway;
    final FrameQueueLink host;
    final NatConfig config;
    private final List<Guest> guests = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private final int[] tokens = new int[64];
    private final int[] lengths = new int[64];

    private GatewayHarness(final NatConfig config, final int guestCount, final long features) {
        this.config = config;
        this.host = config.mode() == NatMode.NAT ? new FrameQueueLink() : null;
        this.gateway = new NatGateway("test", config, bridge, host, counters, clock::get, null);
        for (int i = 0; i < guestCount; i++) {
            final byte[] mac = Packets.mac(String.format("02:00:00:00:00:%02x", i + 1));
            final GuestBridgePort port = new GuestBridgePort("vm" + i, bridge, 1500, mac, 64);
            final TestNetGuest net = new TestNetGuest(features, port, 64);
            net.postReceiveBuffers(0, RX_BUFFERS, RX_BUFFER_BYTES);
            guests.add(new Guest(net, port, mac));
        }
    }

    static GatewayHarness hostOnly(final NatConfig.Builder builder, final int guestCount) {
        return new GatewayHarness(builder.hostOnly().build(), guestCount, FEATURES);
    }

    static GatewayHarness nat(final NatConfig.Builder builder, final int guestCount) {
        return new GatewayHarness(builder.nat(TAP, new Ipv4Address(HOST_ADDRESS), 24, new Ipv4Address(NEXT_HOP))
                .build(), guestCount, FEATURES);
    }

    static GatewayHarness nat(final NatConfig.Builder builder, final int guestCount, final long features) {
        return new GatewayHarness(builder.nat(TAP, new Ipv4Address(HOST_ADDRESS), 24, new Ipv4Address(NEXT_HOP))
                .build(), guestCount, features);
    }

    Guest guest(final int index) {
        return guests.get(index);
    }

    byte[] mac(final int guest) {
        return guests.get(guest).mac();
    }

    NatCounters counters() {
        return gateway.counters();
    }

    /** The guest transmits {@code frame} (no offloads), and everything runs until idle. */
    void send(final int guest, final byte[] frame) {
        send(guest, null, frame);
    }

    /** The guest transmits {@code frame} with a 12-byte virtio-net header, and everything runs until idle. */
    void send(final int guest, final byte[] header, final byte[] frame) {
        guests.get(guest).net().transmit(header, frame, false);
        pump();
    }

    /** The host side sends {@code frame} to the gateway, and everything runs until idle. */
    void fromHost(final byte[] frame) {
        host.queue(frame);
        pump();
    }

    void fromHost(final byte[] frame, final NetHeaderValues header) {
        host.queue(frame, header);
        pump();
    }

    /** Polls guests and the gateway until nothing moves. */
    void pump() {
        for (int round = 0; round < 6; round++) {
            for (Guest guest : guests) {
                guest.net().pollUntilIdle(8);
            }
            gateway.poll();
            for (Guest guest : guests) {
                guest.net().pollUntilIdle(8);
                while (guest.net().txQueue().reap(tokens, lengths, 64) > 0) {
                    continue;
                }
            }
        }
    }

    /** @return and consumes the frames guest {@code index} received (virtio-net header removed) */
    List<byte[]> received(final int index) {
        final List<byte[]> frames = new ArrayList<>();
        for (Received r : receivedWithHeaders(index)) {
            frames.add(r.frame());
        }
        return frames;
    }

    List<Received> receivedWithHeaders(final int index) {
        final TestNetGuest net = guests.get(index).net();
        final int count = net.rxQueue().reap(tokens, lengths, 64);
        final List<Received> frames = new ArrayList<>();
        final MemorySegment scratch = arena.allocate(VirtioNetHeader.BYTES);
        for (int i = 0; i < count; i++) {
            final byte[] buffer = net.receiveBuffer(tokens[i], lengths[i]);
            MemorySegment.copy(buffer, 0, scratch, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, VirtioNetHeader.BYTES);
            frames.add(new Received(Arrays.copyOfRange(buffer, VirtioNetHeader.BYTES, buffer.length),
                    new NetHeaderValues().readFrom(scratch, 0)));
            net.postReceiveBuffers(tokens[i], 1, RX_BUFFER_BYTES);
        }
        return frames;
    }

    /** @return and consumes the frames guest {@code index} received from the gateway (other guests' floods left out) */
    List<byte[]> fromGateway(final int index) {
        final List<byte[]> frames = new ArrayList<>();
        for (byte[] frame : received(index)) {
            if (Arrays.equals(frame, 6, 12, GATEWAY_MAC, 0, 6)) {
                frames.add(frame);
            }
        }
        return frames;
    }

    /** @return the one frame guest {@code index} received from the gateway, failing otherwise */
    byte[] single(final int index) {
        final List<byte[]> frames = fromGateway(index);
        if (frames.size() != 1) {
            throw new AssertionError("guest " + index + " received " + frames.size() + " frames, expected 1");
        }
        return frames.getFirst();
    }

    /**
     * Runs DHCP for guest {@code index} (DISCOVER, REQUEST of the offered address).
     *
     * @return the leased address
     */
    int lease(final int index) {
        final byte[] mac = mac(index);
        send(index, Dhcp.discover(mac, 0x1000 + index, false, null));
        final Packets.Parsed offer = Packets.Parsed.of(single(index));
        final int offered = Packets.u32(offer.frame(), offer.l4() + 8 + DhcpMessage.YIADDR);
        send(index, Dhcp.request(mac, 0x1000 + index, offered, GATEWAY, false));
        final Packets.Parsed ack = Packets.Parsed.of(single(index));
        if (Dhcp.messageType(ack) != DhcpMessage.ACK) {
            throw new AssertionError("no DHCP ACK for guest " + index);
        }
        return offered;
    }

    /** Lets the gateway resolve the next hop: answers its ARP request as the router would. */
    void resolveNextHop() {
        for (FrameQueueLink.Frame frame : host.take()) {
            final byte[] bytes = frame.bytes();
            if (Packets.u16(bytes, 12) == 0x0806 && Packets.u16(bytes, 20) == 1) {
                fromHost(Packets.arp(2, HOST_MAC, NEXT_HOP_MAC, Packets.u32(bytes, 38), HOST_MAC, HOST_ADDRESS));
            }
        }
    }

    @Override
    public void close() {
        for (Guest guest : guests) {
            guest.net().close();
            guest.port().close();
        }
        gateway.close();
        arena.close();
    }
}

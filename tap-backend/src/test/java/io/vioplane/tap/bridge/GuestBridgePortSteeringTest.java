package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.RxDestination;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** A multi-queue guest's port spreads flows over the receive pairs it uses, and loses nothing when it uses fewer. */
class GuestBridgePortSteeringTest {
    private static final ValueLayout.OfShort BE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final Arena arena = Arena.ofConfined();

    /** A UDP/IPv4 frame of flow {@code sourcePort} to the guest. */
    private BufferTxFrame udpFrame(final int sourcePort) {
        final MemorySegment bytes = arena.allocate(60);
        bytes.asSlice(0, 6).fill((byte) 0x02);
        bytes.set(BE_SHORT, 12, (short) 0x0800);
        bytes.set(ValueLayout.JAVA_BYTE, 14, (byte) 0x45);
        bytes.set(ValueLayout.JAVA_BYTE, 23, (byte) 17);
        bytes.set(BE_INT, 26, 0x0A370001);
        bytes.set(BE_INT, 30, 0x0A370002);
        bytes.set(BE_SHORT, 34, (short) sourcePort);
        bytes.set(BE_SHORT, 36, (short) 5201);
        final BufferTxFrame frame = new BufferTxFrame();
        frame.wrap(bytes, 0, 60);
        return frame;
    }

    private static final class CountingDestination implements RxDestination {
        int frames;

        @Override
        public boolean deliver(final MemorySegment source, final long offset, final int lengthBytes,
                               final NetHeaderValues header) {
            frames++;
            return true;
        }

        @Override
        public boolean hasRoom() {
            return true;
        }
    }

    @Test
    void spreadsFlowsOverEveryReceivingPairAndKeepsEachFlowOnOne() {
        final Bridge bridge = Bridge.create("br", Counters.inMemory(256));
        try (GuestBridgePort port = new GuestBridgePort("vm0", bridge, 1500, null, 256, 4)) {
            port.receivePairs(4);
            for (int flow = 0; flow < 64; flow++) {
                port.egress(udpFrame(40000 + flow));
                port.egress(udpFrame(40000 + flow));
            }
            int total = 0;
            for (int pair = 0; pair < 4; pair++) {
                assertTrue(port.waitingFor(pair) > 0, "pair " + pair + " gets flows");
                assertEquals(0, port.waitingFor(pair) % 2, "both frames of a flow wait on one pair");
                total += port.waitingFor(pair);
            }
            assertEquals(128, total);
        }
    }

    @Test
    void framesWaitingForAPairTheGuestGaveUpAreDeliveredByItsLastPair() {
        final Bridge bridge = Bridge.create("br", Counters.inMemory(256));
        try (GuestBridgePort port = new GuestBridgePort("vm0", bridge, 1500, null, 256, 4)) {
            port.receivePairs(4);
            for (int flow = 0; flow < 64; flow++) {
                port.egress(udpFrame(40000 + flow));
            }
            port.receivePairs(2);
            assertTrue(port.hasPending(1));
            final CountingDestination destination = new CountingDestination();
            port.receive(0, destination, 1000);
            port.receive(1, destination, 1000);
            assertEquals(64, destination.frames, "nothing is lost when the guest uses fewer pairs");
            assertFalse(port.hasPending(0) || port.hasPending(1));
        }
    }

    @Test
    void aSinglePairGuestGetsEverythingOnPairZero() {
        final Bridge bridge = Bridge.create("br", Counters.inMemory(256));
        try (GuestBridgePort port = new GuestBridgePort("vm0", bridge, 1500, null, 256)) {
            for (int flow = 0; flow < 16; flow++) {
                port.egress(udpFrame(40000 + flow));
            }
            assertEquals(16, port.waitingFor(0));
            assertFalse(port.hasPending(1));
        }
    }
}

package io.vioplane.virtionet.testkit;

import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.port.RxDestination;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The contract every {@link NetPort} keeps (echo, discard, bridge, TAP, NAT), as Netty's testsuite runs one set of
 * tests against every transport: each port's test extends this class and says how to make the port, how to run
 * what lies behind it, and which frame its far side answers. The tests play the device: they transmit through
 * {@link BufferTxFrame} and receive into a recording {@link RxDestination}, with no guest in between.
 *
 * <p>The contract (virtio-net device side, VIRTIO 1.x 5.1.6): a port names itself; a frame is a view valid during
 * {@code transmit} only, so the port copies what it keeps; frames too short for an Ethernet header or beyond any
 * MTU are refused or dropped, never thrown on (the guest is hostile); {@code receive} delivers at most {@code max}
 * frames and keeps, not loses, what a full guest cannot take; {@code hasPending} agrees with {@code receive}.
 */
public abstract class NetPortConformance {
    /** How long to run the far side while waiting for an answer: a bound on waiting, not a speed check. */
    private static final long ANSWER_WAIT_NS = 10_000_000_000L;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment txBuffer = arena.allocate(70_000, 64);
    private final BufferTxFrame frame = new BufferTxFrame();
    private NetPort port;

    /** @return the port under test, freshly made */
    protected abstract NetPort openPort() throws Exception;

    /** Releases the port and what lies behind it. */
    protected abstract void closePort() throws Exception;

    /** Runs what lies behind the port once (a peer on the bridge, the TAP's reads, the gateway); default nothing. */
    protected void advance() {
    }

    /** @return a frame the port's far side answers on the same queue pair, or null if it never answers */
    protected abstract byte[] askingFrame();

    /** @return a broadcast ARP request (RFC 826) from {@code mac}/{@code ip} asking for {@code target} */
    protected static byte[] arpRequest(final byte[] mac, final byte[] ip, final byte[] target) {
        final java.nio.ByteBuffer frame = java.nio.ByteBuffer.allocate(60);
        frame.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(mac).putShort((short) 0x0806);
        frame.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        frame.put(mac).put(ip).put(new byte[6]).put(target);
        return frame.array();
    }

    @BeforeEach
    final void open() throws Exception {
        port = openPort();
    }

    @AfterEach
    final void close() throws Exception {
        closePort();
        arena.close();
    }

    private boolean transmit(final byte[] bytes) {
        MemorySegment.copy(bytes, 0, txBuffer, ValueLayout.JAVA_BYTE, 0, bytes.length);
        frame.wrap(txBuffer, 0, bytes.length).headerHolder().clear();
        final boolean taken = port.transmit(0, frame);
        port.flush(0);
        return taken;
    }

    private boolean awaitPending() {
        final long deadline = System.nanoTime() + ANSWER_WAIT_NS;
        while (!port.hasPending(0)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            advance();
            Thread.onSpinWait();
        }
        return true;
    }

    @Test
    void namesItselfForLogsAndCounters() {
        assertNotNull(port.name());
        assertFalse(port.name().isBlank());
    }

    @Test
    void receivingAtMostZeroFramesDeliversNothing() {
        final Recorder guest = new Recorder(64);
        assertEquals(0, port.receive(0, guest, 0));
        assertEquals(0, guest.frames.size());
    }

    @Test
    void framesTooShortForAnEthernetHeaderAreNeverThrownOn() {
        for (int length : new int[] {0, 1, 11, 13}) {
            assertDoesNotThrow(() -> transmit(new byte[length]), length + " bytes");
        }
        advance();
        final Recorder guest = new Recorder(64);
        assertDoesNotThrow(() -> port.receive(0, guest, 64));
    }

    @Test
    void anOversizedFrameIsNeverThrownOn() {
        final byte[] huge = new byte[65_550];
        huge[0] = (byte) 0xFF;
        assertDoesNotThrow(() -> transmit(huge));
        advance();
        assertDoesNotThrow(() -> port.receive(0, new Recorder(64), 64));
    }

    @Test
    void anAnswerComesBackOnTheSameQueuePair() {
        final byte[] question = askingFrame();
        assumeTrue(question != null, port.name() + " never answers");
        assertTrue(transmit(question), "the port took the frame");
        assertTrue(awaitPending(), port.name() + " answered");
        final Recorder guest = new Recorder(64);
        assertTrue(port.receive(0, guest, 64) >= 1);
        assertTrue(guest.frames.getFirst().length >= 14, "an Ethernet frame");
    }

    @Test
    void aTransmittedFrameIsCopiedNotKeptAsAView() {
        final byte[] question = askingFrame();
        assumeTrue(question != null, port.name() + " never answers");
        assertTrue(transmit(question));
        txBuffer.asSlice(0, question.length).fill((byte) 0x5A);
        assertTrue(awaitPending(), port.name() + " answered");
        final Recorder guest = new Recorder(64);
        port.receive(0, guest, 64);
        final byte[] poisoned = new byte[question.length];
        java.util.Arrays.fill(poisoned, (byte) 0x5A);
        for (byte[] received : guest.frames) {
            assertFalse(java.util.Arrays.equals(poisoned, 0, 14, received, 0, Math.min(14, received.length)),
                    "the port read the guest's buffer after transmit returned");
        }
    }

    @Test
    void aGuestWithoutRoomLosesNothingAndHasPendingAgreesWithReceive() {
        final byte[] question = askingFrame();
        assumeTrue(question != null, port.name() + " never answers");
        assertTrue(transmit(question));
        assertTrue(awaitPending(), port.name() + " answered");
        final Recorder full = new Recorder(0);
        assertEquals(0, port.receive(0, full, 64), "nothing goes into a guest without receive buffers");
        assertTrue(port.hasPending(0), "the answer still waits");
        final Recorder guest = new Recorder(64);
        assertTrue(port.receive(0, guest, 1) == 1, "at most max, and the waiting answer");
        while (port.hasPending(0)) {
            assertTrue(port.receive(0, guest, 64) > 0, "hasPending promised a frame");
        }
        assertEquals(0, port.receive(0, guest, 64));
    }

    /** A guest's receive side with room for {@code capacity} frames, keeping copies of what it got. */
    private static final class Recorder implements RxDestination {
        final List<byte[]> frames = new ArrayList<>();
        private final int capacity;

        Recorder(final int capacity) {
            this.capacity = capacity;
        }

        @Override
        public boolean deliver(final MemorySegment source, final long offset, final int lengthBytes,
                               final NetHeaderValues header) {
            if (!hasRoom()) {
                return false;
            }
            frames.add(source.asSlice(offset, lengthBytes).toArray(ValueLayout.JAVA_BYTE));
            return true;
        }

        @Override
        public boolean hasRoom() {
            return frames.size() < capacity;
        }
    }
}

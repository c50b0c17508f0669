package io.vioplane.virtionet.port;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Sends every frame back to the guest on the same queue pair with the Ethernet source and destination
 * addresses swapped (like testpmd's macswap): a guest, or a benchmark front-end, talks to itself through the
 * whole device path. Frames wait in a {@link FrameRing} per queue pair until the guest has receive buffers;
 * when the ring is full, new frames are dropped and counted (the guest is not reading).
 */
public final class EchoPort implements NetPort, AutoCloseable {
    /** The largest frame an echo slot holds: a 64 KiB GSO frame plus its Ethernet header. */
    public static final int MAX_FRAME_BYTES = 65536 + 14 + 4;

    private final FrameRing[] rings;
    private long droppedRingFull;

    /** @param queuePairs queue pairs of the device; @param slotsPerPair frames each pair can hold */
    public EchoPort(final int queuePairs, final int slotsPerPair) {
        rings = new FrameRing[queuePairs];
        for (int i = 0; i < queuePairs; i++) {
            rings[i] = new FrameRing(slotsPerPair, MAX_FRAME_BYTES);
        }
    }

    @Override
    public boolean transmit(final int queuePair, final TxFrame frame) {
        final FrameRing ring = rings[queuePair];
        final long at = ring.tailOffset();
        if (!ring.offer(frame)) {
            droppedRingFull++;
            return false;
        }
        if (frame.lengthBytes() >= 12) {
            swapMacs(ring.memory(), at);
        }
        return true;
    }

    private static void swapMacs(final MemorySegment frame, final long at) {
        final int destinationHigh = frame.get(ValueLayout.JAVA_INT_UNALIGNED, at);
        final short destinationLow = frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 4);
        frame.set(ValueLayout.JAVA_INT_UNALIGNED, at, frame.get(ValueLayout.JAVA_INT_UNALIGNED, at + 6));
        frame.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 4, frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 10));
        frame.set(ValueLayout.JAVA_INT_UNALIGNED, at + 6, destinationHigh);
        frame.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 10, destinationLow);
    }

    @Override
    public int receive(final int queuePair, final RxDestination destination, final int max) {
        return rings[queuePair].deliverTo(destination, max);
    }

    @Override
    public boolean hasPending(final int queuePair) {
        return !rings[queuePair].isEmpty();
    }

    /** @return frames dropped because the guest did not take echoed frames fast enough */
    public long droppedRingFull() {
        return droppedRingFull;
    }

    @Override
    public String name() {
        return "echo";
    }

    @Override
    public void close() {
        for (FrameRing ring : rings) {
            ring.close();
        }
    }
}

package io.vioplane.e1000.testkit;

import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.port.RxDestination;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A test {@link NetPort}: keeps a copy of every transmitted frame, and offers frames the test queues to the
 * device's receive side (they stay queued while the device has no room, as a wire's FIFO would hold them).
 */
public final class CapturePort implements NetPort {
    private final List<byte[]> transmitted = new ArrayList<>();
    private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    private final NetHeaderValues noOffload = new NetHeaderValues();

    @Override
    public boolean transmit(final int queuePair, final TxFrame frame) {
        final byte[] copy = new byte[frame.lengthBytes()];
        frame.copyTo(0, MemorySegment.ofArray(copy), 0, copy.length);
        transmitted.add(copy);
        return true;
    }

    @Override
    public int receive(final int queuePair, final RxDestination destination, final int max) {
        int delivered = 0;
        while (delivered < max && !inbound.isEmpty()) {
            final byte[] frame = inbound.peekFirst();
            if (!destination.deliver(MemorySegment.ofArray(frame), 0, frame.length, noOffload)) {
                break;
            }
            inbound.removeFirst();
            delivered++;
        }
        return delivered;
    }

    @Override
    public boolean hasPending(final int queuePair) {
        return !inbound.isEmpty();
    }

    @Override
    public String name() {
        return "capture";
    }

    /** Queues a frame for the device to receive. */
    public void queue(final byte[] frame) {
        inbound.addLast(frame);
    }

    /** @return frames transmitted so far, oldest first */
    public List<byte[]> transmitted() {
        return transmitted;
    }

    /** @return frames still waiting for the device */
    public int pending() {
        return inbound.size();
    }
}

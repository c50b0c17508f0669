package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.FrameRing;

import java.lang.foreign.MemorySegment;

/**
 * Frames the gateway makes for guests (ARP and DHCP replies, ICMP echo replies and errors) while the bridge is
 * handing it a frame: they wait here and enter the bridge on the gateway's next poll, so the bridge is never
 * re-entered from inside its own forwarding. A full queue drops the new frame and counts it.
 */
final class ReplyQueue implements AutoCloseable {
    private final FrameRing ring;
    private final NatCounters counters;
    private final BufferTxFrame frame = new BufferTxFrame();

    /**
     * @param frames    frames that can wait
     * @param slotBytes the largest frame
     */
    ReplyQueue(final int frames, final int slotBytes, final NatCounters counters) {
        this.ring = new FrameRing(frames, slotBytes);
        this.counters = counters;
    }

    /**
     * Reserves the next slot for a frame of up to {@code lengthBytes}: write it at {@link #memory()} from
     * {@link #offset()}, then {@link #commit}.
     *
     * @return false if the queue is full or the frame too long (counted)
     */
    boolean reserve(final int lengthBytes) {
        if (!ring.canTake(lengthBytes)) {
            counters.drop(NatDrop.REPLY_QUEUE_FULL);
            return false;
        }
        return true;
    }

    MemorySegment memory() {
        return ring.memory();
    }

    long offset() {
        return ring.tailOffset();
    }

    /** Publishes the reserved frame of {@code lengthBytes}, with no offloads. */
    void commit(final int lengthBytes) {
        ring.tailHeader().clear();
        ring.commit(lengthBytes);
    }

    /**
     * Sends waiting frames into the bridge from the gateway's port.
     *
     * @return frames sent
     */
    int drainInto(final Bridge bridge, final int port) {
        int sent = 0;
        while (!ring.isEmpty()) {
            final NetHeaderValues header = ring.headHeader();
            frame.wrap(ring.memory(), ring.headOffset(), ring.headLength()).headerHolder().copyFrom(header);
            bridge.forward(port, frame);
            ring.removeHead();
            sent++;
        }
        return sent;
    }

    /** @return true if frames wait */
    boolean isEmpty() {
        return ring.isEmpty();
    }

    @Override
    public void close() {
        ring.close();
    }
}

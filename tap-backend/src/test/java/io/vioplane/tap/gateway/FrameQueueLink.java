package io.vioplane.tap.gateway;

import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The host side played by a test, the way {@code TestNetGuest} plays a guest: frames the test queues are what
 * the gateway reads from its link; frames the gateway writes are kept for the test to inspect. It does nothing
 * a kernel would do (no ARP, no answers): the test answers. Tests against the real kernel use a
 * {@link TapHostLink} in a network namespace.
 */
final class FrameQueueLink implements HostLink {
    /** A frame and its offload state. */
    record Frame(byte[] bytes, NetHeaderValues header) {
    }

    final Deque<Frame> toGateway = new ArrayDeque<>();
    final List<Frame> sent = new ArrayList<>();
    boolean refuse;
    boolean closed;

    void queue(final byte[] frame) {
        toGateway.add(new Frame(frame, new NetHeaderValues().clear()));
    }

    void queue(final byte[] frame, final NetHeaderValues header) {
        toGateway.add(new Frame(frame, header));
    }

    /** @return and forgets the frames the gateway sent */
    List<Frame> take() {
        final List<Frame> frames = new ArrayList<>(sent);
        sent.clear();
        return frames;
    }

    @Override
    public boolean send(final NetHeaderValues header, final MemorySegment frame, final long offset,
                        final int lengthBytes) {
        if (refuse) {
            return false;
        }
        final byte[] bytes = new byte[lengthBytes];
        MemorySegment.copy(frame, ValueLayout.JAVA_BYTE, offset, bytes, 0, lengthBytes);
        sent.add(new Frame(bytes, new NetHeaderValues().copyFrom(header)));
        return true;
    }

    @Override
    public int receive(final MemorySegment buffer, final long frameOffset, final int capacityBytes,
                       final NetHeaderValues header) {
        final Frame frame = toGateway.poll();
        if (frame == null) {
            return 0;
        }
        final int length = Math.min(frame.bytes().length, capacityBytes);
        MemorySegment.copy(frame.bytes(), 0, buffer, ValueLayout.JAVA_BYTE, frameOffset, length);
        header.copyFrom(frame.header());
        return length;
    }

    @Override
    public String name() {
        return "test-host";
    }

    @Override
    public void close() {
        closed = true;
    }
}

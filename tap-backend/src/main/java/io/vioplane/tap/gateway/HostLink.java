package io.vioplane.tap.gateway;

import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.MemorySegment;

/**
 * The NAT gateway's host side: a link it reads frames from and writes frames to directly, with each frame's
 * virtio-net offload state (VIRTIO 1.x 5.1.6; the TAP's vnet header). {@link TapHostLink} is the TAP device.
 * Called on the gateway's data-plane thread only; no allocation per frame.
 */
public interface HostLink extends AutoCloseable {
    /** Bytes before a receive buffer's frame offset the link may use as scratch. */
    int HEADROOM_BYTES = 16;

    /**
     * Writes one frame, or queues it (copied) until {@link #flush}.
     *
     * @return false if the link refused it (down, full, gone)
     */
    boolean send(NetHeaderValues header, MemorySegment frame, long offset, int lengthBytes);

    /** Writes what {@link #send} queued. */
    default void flush() {
    }

    /** @return frames that were queued and then refused at {@link #flush} since the last call (counted once) */
    default long takeRefused() {
        return 0;
    }

    /**
     * Reads one frame into {@code buffer} at {@code frameOffset} (at least {@link #HEADROOM_BYTES}, which the link
     * may overwrite before it) and its offload state into {@code header}.
     *
     * @param capacityBytes the most frame bytes {@code buffer} holds from {@code frameOffset}
     * @return the frame's length, or 0 if none waits
     */
    int receive(MemorySegment buffer, long frameOffset, int capacityBytes, NetHeaderValues header);

    /** Lets the link wake {@code dataPlane} when frames arrive (called on its thread); no-op by default. */
    default void wakeOnFrames(final DataPlane dataPlane) {
    }

    /** @return a short name for logs and counters */
    String name();

    @Override
    void close();
}

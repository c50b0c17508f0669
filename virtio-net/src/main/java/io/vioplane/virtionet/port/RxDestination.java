package io.vioplane.virtionet.port;

import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.MemorySegment;

/**
 * A guest's receive side, as a port sees it: frames delivered here are written straight into the guest's
 * receive buffers with a virtio-net header (num_buffers and offload fields set as the guest negotiated).
 * Called on the data-plane thread only.
 */
public interface RxDestination {
    /**
     * Writes one frame into the guest.
     *
     * @param source      where the frame is
     * @param offset      the frame's first byte in {@code source}
     * @param lengthBytes the frame's length, header excluded
     * @param header      the frame's offload state (checksum, GSO)
     * @return true if the frame was consumed (delivered, or dropped and counted because the guest can never take
     *     it); false if the guest has no receive buffers right now: keep the frame and try again later
     */
    boolean deliver(MemorySegment source, long offset, int lengthBytes, NetHeaderValues header);

    /** @return true if the guest has at least one receive buffer available now */
    boolean hasRoom();
}

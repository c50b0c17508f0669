package io.vioplane.virtionet.port;

import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.MemorySegment;

/**
 * A frame a guest transmitted, as a view over the guest's buffers (the chain's readable segments after the
 * virtio-net header). Valid only during {@link NetPort#transmit}: a port that keeps the frame copies it, except
 * that the segments of a frame that is {@link #stableUntilFlush() stable} may be handed to the kernel until the
 * producer's flush. Every access is bounds-checked against guest memory.
 */
public interface TxFrame {
    /**
     * @return true if the frame's segments stay mapped and are not given back to their owner until the producer
     *     calls {@link NetPort#flush} (a guest's transmit chain: its buffers return to the guest only after the
     *     flush), so a port may queue them for a batched write; false for a reused buffer
     */
    default boolean stableUntilFlush() {
        return false;
    }

    /** @return the frame's checked virtio-net header fields */
    NetHeaderValues header();

    /** @return the frame's length in bytes, header excluded */
    int lengthBytes();

    /**
     * Copies {@code lengthBytes} of the frame from {@code frameOffset} into {@code destination}.
     *
     * @return bytes copied (fewer if the frame ends first)
     */
    long copyTo(long frameOffset, MemorySegment destination, long destinationOffset, long lengthBytes);

    /** @return how many guest-memory segments hold the frame (for scatter-gather I/O straight from the guest) */
    int segmentCount();

    /** @return the host segment holding frame segment {@code index} */
    MemorySegment segmentBase(int index);

    /** @return the offset of frame segment {@code index} in {@link #segmentBase} */
    long segmentOffset(int index);

    /** @return the length of frame segment {@code index} */
    long segmentLength(int index);
}

package io.vioplane.virtionet.port;

/**
 * Where a virtio-net device's frames go and come from: a loopback, a counter, a bridge, a TAP device.
 *
 * <p>All calls happen on the data-plane thread that owns the device's queues, per queue pair (queue pair
 * {@code k} = receive queue 2k and transmit queue 2k+1, VIRTIO 1.x 5.1.2), so a port needs no locks for
 * frames of one device. No allocation per frame.
 */
public interface NetPort {
    /**
     * Takes a frame the guest transmitted on {@code queuePair}. The frame is a view valid only during this
     * call (copy what you keep), unless {@link TxFrame#stableUntilFlush()} says its bytes stay in place until the
     * next {@link #flush}.
     *
     * @return false if the port dropped the frame (it counts why)
     */
    boolean transmit(int queuePair, TxFrame frame);

    /**
     * Ends a batch of {@link #transmit} calls: a port that batches output writes it now, before returning, for the
     * frames' buffers go back to the guest right after.
     */
    default void flush(final int queuePair) {
    }

    /**
     * Delivers frames waiting for the guest's {@code queuePair} into {@code destination}, at most {@code max}.
     *
     * @return how many frames were consumed
     */
    int receive(int queuePair, RxDestination destination, int max);

    /** @return true if frames wait for {@code queuePair} (the device then wants to hear about new RX buffers) */
    boolean hasPending(int queuePair);

    /**
     * Says how many receive queues take frames now: those of queue pairs {@code 0..pairs-1} (VIRTIO 1.x 5.1.6.5.5:
     * the driver picks how many pairs it uses; over vhost-user the front-end enables their rings). A port that
     * spreads frames over several queue pairs uses this many; 0 means none is ready yet. Data-plane thread.
     */
    default void receivePairs(final int pairs) {
    }

    /** @return a short description for logs and counters, e.g. {@code "echo"} */
    String name();
}

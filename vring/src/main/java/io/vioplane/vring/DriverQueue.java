package io.vioplane.vring;

/**
 * The driver side of a virtqueue: what a guest driver does (VIRTIO 1.x sections 2.7.13 and 2.8.21): place
 * buffers, publish them, decide whether to kick, reap used buffers, and switch used-buffer interrupts on and
 * off. Used by the tests and benchmarks against the device side, and by in-process front-ends.
 *
 * <p>The driver side does not trust the device either: a used id that is not in flight, or a length larger
 * than the buffer's writable part, breaks the queue ({@link #deviceFault()}), as Linux's virtio_ring does.
 * Single-threaded.
 */
public interface DriverQueue {
    /** @return the queue's configuration */
    QueueConfig config();

    /** @return descriptors free for new buffers */
    int freeDescriptors();

    /**
     * Places one buffer made of {@code readableCount} device-readable segments followed by
     * {@code writableCount} device-writable ones; it becomes visible at {@link #publish()}.
     *
     * @param gpas    the segments' guest addresses
     * @param lengths their lengths
     * @param token   the caller's handle for the buffer, returned by {@link #reap}
     * @return false if the ring has no room (nothing was placed)
     */
    boolean add(long[] gpas, int[] lengths, int readableCount, int writableCount, int token);

    /** Makes every buffer placed since the last publish visible to the device at once. */
    void publish();

    /** @return true if the device asked for a notification for what was published since the last decision */
    boolean needsKick();

    /**
     * Takes used buffers back.
     *
     * @param tokens  receives each buffer's token
     * @param lengths receives the bytes the device wrote into each
     * @return how many buffers were reaped
     */
    int reap(int[] tokens, int[] lengths, int max);

    /** Asks the device not to interrupt while the driver polls. */
    void disableInterrupts();

    /**
     * Asks for interrupts again and re-checks after a full fence.
     *
     * @return true if used buffers arrived meanwhile
     */
    boolean enableInterrupts();

    /** @return what the device did wrong, or null */
    String deviceFault();
}

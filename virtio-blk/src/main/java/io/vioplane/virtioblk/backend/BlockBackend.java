package io.vioplane.virtioblk.backend;

/**
 * Storage behind a virtio-blk device (VIRTIO 1.x section 5.2): a size, a read-only flag, and one
 * {@link BlockQueue} per virtqueue through which that queue's data-plane thread submits asynchronous I/O.
 */
public interface BlockBackend extends AutoCloseable {
    /** @return the current size in bytes (read again when the front-end asks, so a grown image is seen) */
    long sizeBytes();

    /** @return true if writes, discards and write-zeroes must be refused */
    boolean readOnly();

    /**
     * Opens the I/O context of virtqueue {@code index}; used by one thread.
     *
     * @param depth the most operations it must hold in flight
     */
    BlockQueue openQueue(int index, int depth);

    /** @return a name for logs */
    String name();

    /** Closes the storage; every queue must have been closed. */
    @Override
    void close();
}

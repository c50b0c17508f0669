package io.vioplane.virtioblk.backend;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.IoVecArray;

/**
 * One virtqueue's asynchronous I/O context: operations are prepared, submitted (all prepared ones at once) with
 * {@link #submit()}, and their completions reaped later, each with the caller's tag and a result (bytes
 * transferred or a negative errno). {@link #completionSignal()} becomes readable when completions wait, so the
 * data-plane thread can sleep. One thread; nothing allocated per operation.
 */
public interface BlockQueue extends AutoCloseable {
    /** @return operations that can be outstanding at once */
    int depth();

    /** @return operations prepared or submitted and not yet reaped */
    int outstanding();

    /** @return an eventfd signalled when completions are posted */
    EventFd completionSignal();

    /** Prepares a scatter read of {@code count} iovecs at {@code offsetBytes}. */
    void readv(IoVecArray iov, int count, long offsetBytes, long tag);

    /**
     * Prepares a gather write.
     *
     * @param durable the write must be on stable storage when it completes (writethrough)
     */
    void writev(IoVecArray iov, int count, long offsetBytes, boolean durable, long tag);

    /** Prepares a flush of every completed write to stable storage (fdatasync(2)). */
    void flush(long tag);

    /** Prepares the deallocation of a range; it reads as zeroes afterwards. */
    void discard(long offsetBytes, long lengthBytes, long tag);

    /**
     * Prepares the zeroing of a range.
     *
     * @param unmap the range may be deallocated instead of written
     */
    void writeZeroes(long offsetBytes, long lengthBytes, boolean unmap, long tag);

    /** Submits everything prepared with one system call (none if nothing is prepared, or the I/O is inline). */
    void submit();

    /**
     * Takes up to {@code max} completions without waiting.
     *
     * @return how many were taken
     */
    int reap(long[] tags, int[] results, int max);

    /** Blocks until at least one completion is ready, if anything is outstanding (draining a queue). */
    void awaitCompletion();

    /** Frees the context; nothing must be outstanding. */
    @Override
    void close();
}

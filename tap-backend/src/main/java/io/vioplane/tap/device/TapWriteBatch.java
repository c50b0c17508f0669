package io.vioplane.tap.device;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoUring;
import io.vioplane.platform.sys.IoVecArray;
import io.vioplane.platform.sys.SysException;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Frames for a TAP written a batch at a time: up to {@link #FRAMES} gather writes (each a frame's virtio-net header,
 * copied here, then its bytes) submitted with one io_uring_enter(2) call (Linux io_uring(7)), where writev(2) would
 * make one system call per frame. A TAP never sleeps on a write, so the kernel runs the writes during that call, in
 * queue order.
 *
 * <p>A frame that is {@link TxFrame#stableUntilFlush() stable} is written straight from where it lies (a guest's
 * buffers); any other frame of up to {@link #COPY_BYTES} is copied into a slot of the batch; a larger one, or one in
 * more pieces than a slot holds, ends the batch and is written at once. Without io_uring (an old kernel,
 * {@code kernel.io_uring_disabled}, a seccomp filter) every frame is written at once with writev(2), and the
 * reason is logged once. Failures reach the {@link Failures} callback with their errno. One thread; nothing
 * allocated per frame.
 */
public final class TapWriteBatch implements AutoCloseable {
    /** Frames per batch. */
    public static final int FRAMES = 64;
    /** The largest frame copied into a slot; larger unstable frames are written at once. */
    public static final int COPY_BYTES = 2048;
    private static final int SLOT_IOVECS = 16;
    private static final int HEADER_SLOT_BYTES = 16;

    /** Hears of each write that failed. */
    @FunctionalInterface
    public interface Failures {
        /** A write failed with {@code errno}; {@code call} names it for logs. */
        void writeFailed(String call, int errno);
    }

    private final Failures failures;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment headers = arena.allocate((long) FRAMES * HEADER_SLOT_BYTES, 16);
    private final MemorySegment copies = arena.allocate((long) FRAMES * COPY_BYTES, 64);
    private final MemorySegment linear = arena.allocate(65536 + 18, 64);
    private final IoVecArray iov = new IoVecArray(arena, FRAMES * SLOT_IOVECS);
    private final IoVecArray single = new IoVecArray(arena, SLOT_IOVECS + 1);
    private final long[] completedSlots = new long[FRAMES];
    private final int[] results = new int[FRAMES];
    private final IoUring ring;
    private TapDevice tap;
    private int queued;
    private long batches;

    /**
     * @param log      where the absence of io_uring is reported
     * @param failures hears of failed writes
     */
    public TapWriteBatch(final ErrorLog log, final Failures failures) {
        this.failures = failures;
        IoUring opened = null;
        try {
            opened = IoUring.open(FRAMES);
        } catch (SysException e) {
            log.info("tap: io_uring unavailable (" + e.getMessage() + "): one writev(2) per frame");
        }
        this.ring = opened;
    }

    /** @return true if frames are batched through io_uring */
    public boolean batching() {
        return ring != null;
    }

    /** @return batches submitted so far */
    public long batches() {
        return batches;
    }

    /** Writes to {@code device} from now on (after writing out what was queued for the previous one). */
    public void attach(final TapDevice device) {
        flush();
        tap = device;
        if (ring != null && device != null) {
            ring.registerFile(device.fd());
        }
    }

    /** Stops writing: what is queued is written first. */
    public void detach() {
        flush();
        tap = null;
        if (ring != null) {
            ring.unregisterFile();
        }
    }

    /**
     * Queues {@code frame}, or writes it at once when it cannot wait.
     *
     * @return false if the frame was written at once and the write failed (already reported)
     */
    public boolean write(final TxFrame frame) {
        if (tap == null) {
            return false;
        }
        if (ring == null) {
            return writeNow(frame);
        }
        final int segments = frame.segmentCount();
        final boolean inPlace = frame.stableUntilFlush() && segments < SLOT_IOVECS;
        if (!inPlace && frame.lengthBytes() > COPY_BYTES) {
            flush();
            return writeNow(frame);
        }
        if (queued == FRAMES) {
            flush();
        }
        final int slot = queued;
        final long headerOffset = (long) slot * HEADER_SLOT_BYTES;
        frame.header().writeTo(headers, headerOffset, 0);
        final int first = slot * SLOT_IOVECS;
        iov.set(first, headers, headerOffset, TapDevice.VNET_HEADER_BYTES);
        int entries = 1;
        if (inPlace) {
            for (int s = 0; s < segments; s++) {
                iov.set(first + entries++, frame.segmentBase(s), frame.segmentOffset(s), frame.segmentLength(s));
            }
        } else {
            final long copyOffset = (long) slot * COPY_BYTES;
            final long copied = frame.copyTo(0, copies, copyOffset, frame.lengthBytes());
            iov.set(first + entries++, copies, copyOffset, copied);
        }
        ring.prepareWritev(iov, first, entries, slot);
        queued++;
        return true;
    }

    /**
     * Writes every queued frame with one submission and reports the failures.
     *
     * @return frames written
     */
    public int flush() {
        if (queued == 0) {
            return 0;
        }
        final int count = queued;
        queued = 0;
        batches++;
        try {
            ring.submitAndWait();
        } catch (SysException e) {
            failures.writeFailed("io_uring_enter", e.errno());
        }
        int written = 0;
        int reaped;
        while ((reaped = ring.reap(completedSlots, results, FRAMES)) > 0) {
            for (int i = 0; i < reaped; i++) {
                if (results[i] >= 0) {
                    written++;
                } else {
                    failures.writeFailed("writev (io_uring)", -results[i]);
                }
            }
        }
        return Math.min(written, count);
    }

    private boolean writeNow(final TxFrame frame) {
        frame.header().writeTo(headers, 0, 0);
        single.set(0, headers, 0, TapDevice.VNET_HEADER_BYTES);
        int entries = 1;
        if (frame.segmentCount() < SLOT_IOVECS) {
            for (int s = 0; s < frame.segmentCount(); s++) {
                single.set(entries++, frame.segmentBase(s), frame.segmentOffset(s), frame.segmentLength(s));
            }
        } else {
            final long copied = frame.copyTo(0, linear, 0, frame.lengthBytes());
            single.set(entries++, linear, 0, copied);
        }
        try {
            return tap.write(single, entries) != FileIo.WOULD_BLOCK;
        } catch (SysException e) {
            failures.writeFailed("writev", e.errno());
            return false;
        }
    }

    /** Writes what is queued and releases the ring and buffers (the TAP itself belongs to the caller). */
    @Override
    public void close() {
        if (tap != null) {
            detach();
        }
        if (ring != null) {
            ring.close();
        }
        arena.close();
    }
}

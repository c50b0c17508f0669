package io.vioplane.virtioblk.backend;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoUring;
import io.vioplane.platform.sys.IoVecArray;
import io.vioplane.platform.sys.PositionedIo;

import java.nio.file.Path;

/**
 * A raw image (a regular file or a block device) as a virtio-blk backend: sector {@code n} is byte
 * {@code 512 n} of the file. Each virtqueue gets an io_uring of its own with the image registered as its fixed
 * file and an eventfd for completions (Linux io_uring(7)): reads and writes are READV / WRITEV at explicit offsets
 * (RWF_DSYNC for writethrough writes), FLUSH is FSYNC with DATASYNC, DISCARD is FALLOCATE with
 * PUNCH_HOLE|KEEP_SIZE, WRITE_ZEROES is FALLOCATE with ZERO_RANGE|KEEP_SIZE (PUNCH_HOLE with UNMAP). O_DIRECT
 * bypasses the host's page cache when asked.
 *
 * <p>An image on a file system without non-blocking I/O (tmpfs: its files lack FMODE_NOWAIT) is served
 * {@linkplain IoMode#INLINE inline} instead: io_uring would hand each of its operations to a kernel worker thread
 * (io-wq), which inherits the data plane's CPU, so every request would cost two context switches around the same
 * copy the worker does. Inline, the queue's thread makes the same calls itself (preadv2(2), pwritev2(2),
 * fdatasync(2), fallocate(2)), each when the operation is prepared; they do not wait for a device.
 */
public final class RawImageBackend implements BlockBackend {
    /** O_DIRECT on x86-64 and arm64 Linux. */
    public static final int O_DIRECT = 0x4000;
    private static final int FALLOC_KEEP_SIZE = 0x01;
    private static final int FALLOC_PUNCH_HOLE = 0x02;
    private static final int FALLOC_ZERO_RANGE = 0x10;

    private final Path path;
    private final int fd;
    private final boolean readOnly;
    private final boolean direct;
    private final boolean inline;

    /** How a queue's operations reach the image. */
    public enum IoMode {
        /** {@link #INLINE} if the image's file system takes no non-blocking I/O, else {@link #IO_URING}. */
        AUTO,
        /** Submitted to an io_uring and completed asynchronously. */
        IO_URING,
        /** Done by the queue's thread when prepared, each a system call that completes before it returns. */
        INLINE
    }

    private RawImageBackend(final Path path, final int fd, final boolean readOnly, final boolean direct,
                            final boolean inline) {
        this.path = path;
        this.fd = fd;
        this.readOnly = readOnly;
        this.direct = direct;
        this.inline = inline;
    }

    /**
     * Opens an image, its I/O {@linkplain IoMode#AUTO chosen by its file system}.
     *
     * @param readOnly open it read-only and refuse modifications
     * @param direct   bypass the page cache (O_DIRECT): guest buffers must then be 512-byte aligned
     */
    public static RawImageBackend open(final Path path, final boolean readOnly, final boolean direct) {
        return open(path, readOnly, direct, IoMode.AUTO);
    }

    /**
     * Opens an image whose queues do their I/O the way {@code mode} says.
     *
     * @param readOnly open it read-only and refuse modifications
     * @param direct   bypass the page cache (O_DIRECT): guest buffers must then be 512-byte aligned
     */
    public static RawImageBackend open(final Path path, final boolean readOnly, final boolean direct,
                                       final IoMode mode) {
        final int flags = (readOnly ? FileIo.O_RDONLY : FileIo.O_RDWR) | (direct ? O_DIRECT : 0);
        final int fd = FileIo.open(path.toString(), flags);
        try {
            final boolean inline = switch (mode) {
                case AUTO -> !PositionedIo.supportsNowait(fd);
                case IO_URING -> false;
                case INLINE -> true;
            };
            return new RawImageBackend(path, fd, readOnly, direct, inline);
        } catch (RuntimeException e) {
            FileIo.closeQuietly(fd);
            throw e;
        }
    }

    @Override
    public long sizeBytes() {
        return FileIo.sizeOf(fd);
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    /** @return true if the page cache is bypassed */
    public boolean direct() {
        return direct;
    }

    @Override
    public BlockQueue openQueue(final int index, final int depth) {
        return inline ? new InlineQueue(depth) : new UringQueue(depth);
    }

    /** @return true if the queues do their I/O {@linkplain IoMode#INLINE inline} */
    public boolean inline() {
        return inline;
    }

    @Override
    public String name() {
        return "raw[" + path + (readOnly ? ", ro" : "") + (direct ? ", direct" : "") + (inline ? ", inline" : "") + "]";
    }

    @Override
    public void close() {
        FileIo.close(fd);
    }

    /** One queue's io_uring. */
    private final class UringQueue implements BlockQueue {
        private final IoUring ring;
        private final EventFd signal;

        UringQueue(final int depth) {
            ring = IoUring.openForStorage(depth);
            try {
                ring.registerFile(fd);
                signal = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC);
                ring.registerEventFd(signal.fd());
            } catch (RuntimeException e) {
                ring.close();
                throw e;
            }
        }

        @Override
        public int depth() {
            return ring.capacity();
        }

        @Override
        public int outstanding() {
            return ring.outstanding();
        }

        @Override
        public EventFd completionSignal() {
            return signal;
        }

        @Override
        public void readv(final IoVecArray iov, final int count, final long offsetBytes, final long tag) {
            ring.prepareReadvAt(iov, 0, count, offsetBytes, tag);
        }

        @Override
        public void writev(final IoVecArray iov, final int count, final long offsetBytes, final boolean durable,
                           final long tag) {
            ring.prepareWritevAt(iov, 0, count, offsetBytes, durable ? IoUring.RWF_DSYNC : 0, tag);
        }

        @Override
        public void flush(final long tag) {
            ring.prepareFsync(IoUring.FSYNC_DATASYNC, tag);
        }

        @Override
        public void discard(final long offsetBytes, final long lengthBytes, final long tag) {
            ring.prepareFallocate(FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, offsetBytes, lengthBytes, tag);
        }

        @Override
        public void writeZeroes(final long offsetBytes, final long lengthBytes, final boolean unmap, final long tag) {
            ring.prepareFallocate((unmap ? FALLOC_PUNCH_HOLE : FALLOC_ZERO_RANGE) | FALLOC_KEEP_SIZE, offsetBytes,
                    lengthBytes, tag);
        }

        @Override
        public void submit() {
            ring.submit();
        }

        @Override
        public int reap(final long[] tags, final int[] results, final int max) {
            return ring.reap(tags, results, max);
        }

        @Override
        public void awaitCompletion() {
            ring.awaitCompletions(1);
        }

        @Override
        public void close() {
            ring.close();
            signal.close();
        }
    }

    /**
     * One queue's I/O done {@linkplain IoMode#INLINE inline}: each operation when it is prepared, its result (bytes or
     * a negative errno, as an io_uring completion has it) kept until reaped. Its completion eventfd is never
     * signalled: the results are there before the preparing call returns.
     */
    private final class InlineQueue implements BlockQueue {
        private final EventFd signal = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC);
        private final long[] doneTags;
        private final int[] doneResults;
        private int head;
        private int count;

        InlineQueue(final int depth) {
            doneTags = new long[depth];
            doneResults = new int[depth];
        }

        @Override
        public int depth() {
            return doneTags.length;
        }

        @Override
        public int outstanding() {
            return count;
        }

        @Override
        public EventFd completionSignal() {
            return signal;
        }

        private void done(final long tag, final long result) {
            if (count == doneTags.length) {
                throw new IllegalStateException("inline I/O: " + count + " completions not reaped");
            }
            final int at = (head + count) % doneTags.length;
            doneTags[at] = tag;
            doneResults[at] = (int) result;
            count++;
        }

        @Override
        public void readv(final IoVecArray iov, final int count, final long offsetBytes, final long tag) {
            done(tag, PositionedIo.preadv(fd, iov, count, offsetBytes, 0));
        }

        @Override
        public void writev(final IoVecArray iov, final int count, final long offsetBytes, final boolean durable,
                           final long tag) {
            done(tag, PositionedIo.pwritev(fd, iov, count, offsetBytes, durable ? PositionedIo.RWF_DSYNC : 0));
        }

        @Override
        public void flush(final long tag) {
            done(tag, PositionedIo.fdatasync(fd));
        }

        @Override
        public void discard(final long offsetBytes, final long lengthBytes, final long tag) {
            done(tag, PositionedIo.fallocate(fd, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, offsetBytes, lengthBytes));
        }

        @Override
        public void writeZeroes(final long offsetBytes, final long lengthBytes, final boolean unmap, final long tag) {
            done(tag, PositionedIo.fallocate(fd, (unmap ? FALLOC_PUNCH_HOLE : FALLOC_ZERO_RANGE) | FALLOC_KEEP_SIZE,
                    offsetBytes, lengthBytes));
        }

        @Override
        public void submit() {
        }

        @Override
        public int reap(final long[] tags, final int[] results, final int max) {
            int taken = 0;
            while (count > 0 && taken < max) {
                tags[taken] = doneTags[head];
                results[taken] = doneResults[head];
                head = (head + 1) % doneTags.length;
                count--;
                taken++;
            }
            return taken;
        }

        @Override
        public void awaitCompletion() {
        }

        @Override
        public void close() {
            signal.close();
        }
    }
}

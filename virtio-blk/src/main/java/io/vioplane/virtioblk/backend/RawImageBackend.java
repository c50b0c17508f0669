package io.vioplane.virtioblk.backend;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoUring;
import io.vioplane.platform.sys.IoVecArray;

import java.nio.file.Path;

/**
 * A raw image (a regular file or a block device) as a virtio-blk backend: sector {@code n} is byte
 * {@code 512 n} of the file. Each virtqueue gets an io_uring of its own with the image registered as its fixed
 * file and an eventfd for completions (Linux io_uring(7)): reads and writes are READV / WRITEV at explicit offsets
 * (RWF_DSYNC for writethrough writes), FLUSH is FSYNC with DATASYNC, DISCARD is FALLOCATE with
 * PUNCH_HOLE|KEEP_SIZE, WRITE_ZEROES is FALLOCATE with ZERO_RANGE|KEEP_SIZE (PUNCH_HOLE with UNMAP), all
 * submitted a batch at a time. O_DIRECT bypasses the host's page cache when asked.
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

    private RawImageBackend(final Path path, final int fd, final boolean readOnly, final boolean direct) {
        this.path = path;
        this.fd = fd;
        this.readOnly = readOnly;
        this.direct = direct;
    }

    /**
     * Opens an image.
     *
     * @param readOnly open it read-only and refuse modifications
     * @param direct   bypass the page cache (O_DIRECT): guest buffers must then be 512-byte aligned
     */
    public static RawImageBackend open(final Path path, final boolean readOnly, final boolean direct) {
        final int flags = (readOnly ? FileIo.O_RDONLY : FileIo.O_RDWR) | (direct ? O_DIRECT : 0);
        return new RawImageBackend(path, FileIo.open(path.toString(), flags), readOnly, direct);
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
        return new UringQueue(depth);
    }

    @Override
    public String name() {
        return "raw[" + path + (readOnly ? ", ro" : "") + (direct ? ", direct" : "") + "]";
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
}

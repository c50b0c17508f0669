package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Synchronous I/O at explicit file offsets: preadv2(2), pwritev2(2), fdatasync(2) and fallocate(2), reporting
 * results the way io_uring's completions do (bytes transferred or 0, else a negative errno; nothing thrown for an
 * I/O error, EINTR retried), so a caller can treat them as completions. Nothing allocated per call.
 */
public final class PositionedIo {
    /** RWF_DSYNC: the write is durable when the call returns. */
    public static final int RWF_DSYNC = 0x02;
    /** RWF_NOWAIT: fail with EAGAIN instead of waiting for I/O. */
    public static final int RWF_NOWAIT = 0x08;

    private PositionedIo() {
    }

    /** Reads into the first {@code count} entries of {@code iov} from {@code offsetBytes}. */
    public static long preadv(final int fd, final IoVecArray iov, final int count, final long offsetBytes,
                              final int rwFlags) {
        iov.checkCount(count);
        final Libc.Scratch scratch = Libc.scratch();
        long n;
        do {
            n = Libc.preadv2(scratch.capture, fd, iov.segment(), count, offsetBytes, rwFlags);
        } while (n < 0 && scratch.errno() == Errno.EINTR);
        return n < 0 ? -scratch.errno() : n;
    }

    /** Writes the first {@code count} entries of {@code iov} at {@code offsetBytes}. */
    public static long pwritev(final int fd, final IoVecArray iov, final int count, final long offsetBytes,
                               final int rwFlags) {
        iov.checkCount(count);
        final Libc.Scratch scratch = Libc.scratch();
        long n;
        do {
            n = Libc.pwritev2(scratch.capture, fd, iov.segment(), count, offsetBytes, rwFlags);
        } while (n < 0 && scratch.errno() == Errno.EINTR);
        return n < 0 ? -scratch.errno() : n;
    }

    /** @return 0 once the file's written data is on stable storage, or a negative errno */
    public static int fdatasync(final int fd) {
        final Libc.Scratch scratch = Libc.scratch();
        int result;
        do {
            result = Libc.fdatasync(scratch.capture, fd);
        } while (result < 0 && scratch.errno() == Errno.EINTR);
        return result < 0 ? -scratch.errno() : 0;
    }

    /** @return 0 once fallocate(2) with {@code mode} (FALLOC_FL_* bits) did the range, or a negative errno */
    public static int fallocate(final int fd, final int mode, final long offsetBytes, final long lengthBytes) {
        final Libc.Scratch scratch = Libc.scratch();
        int result;
        do {
            result = Libc.fallocate(scratch.capture, fd, mode, offsetBytes, lengthBytes);
        } while (result < 0 && scratch.errno() == Errno.EINTR);
        return result < 0 ? -scratch.errno() : 0;
    }

    /**
     * Tells whether the file behind {@code fd} takes non-blocking reads (its file system sets FMODE_NOWAIT): a
     * preadv2(2) with RWF_NOWAIT of its first 4 KiB fails with EOPNOTSUPP when it does not. io_uring hands every
     * read and write of such a file (tmpfs, for one) to a kernel worker thread instead of doing it in the
     * submitting call.
     *
     * @throws SysException if the probe fails otherwise (the descriptor is not readable, ...)
     */
    public static boolean supportsNowait(final int fd) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment page = arena.allocate(4096, 4096);
            final IoVecArray iov = new IoVecArray(arena, 1);
            iov.set(0, page);
            final long result = preadv(fd, iov, 1, 0, RWF_NOWAIT);
            if (result == -Errno.EOPNOTSUPP) {
                return false;
            }
            if (result < 0 && result != -Errno.EAGAIN) {
                throw new SysException("preadv2(fd=" + fd + ", RWF_NOWAIT)", (int) -result);
            }
            return true;
        }
    }
}

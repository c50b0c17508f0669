package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * open, close, read, pread, write, readv, writev, lseek and fcntl on file descriptors (POSIX.1-2017 and the Linux
 * man pages, section 2).
 *
 * <p>{@code read}/{@code write} return the byte count or {@link #WOULD_BLOCK} for a non-blocking
 * descriptor that has nothing to give or no room; every other failure throws {@link SysException}. Buffers
 * must be native segments.
 */
public final class FileIo {
    /** Returned instead of a byte count when a non-blocking descriptor reports EAGAIN. */
    public static final long WOULD_BLOCK = -1;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    public static final int SEEK_SET = 0;
    public static final int SEEK_CUR = 1;
    public static final int SEEK_END = 2;

    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;

    private FileIo() {
    }

    /**
     * @param path  file to open
     * @param flags {@code O_*} flags; {@link #O_CLOEXEC} is always added
     * @return the new descriptor
     */
    public static int open(final String path, final int flags) {
        final Libc.Scratch scratch = Libc.scratch();
        try (Arena arena = Arena.ofConfined()) {
            final int fd = Libc.open(scratch.capture, arena.allocateFrom(path), flags | O_CLOEXEC, 0600);
            if (fd < 0) {
                throw new SysException("open(" + path + ")", scratch.errno());
            }
            return fd;
        }
    }

    /** Closes {@code fd}; EINTR is not retried (Linux releases the descriptor regardless). */
    public static void close(final int fd) {
        final Libc.Scratch scratch = Libc.scratch();
        if (Libc.close(scratch.capture, fd) < 0) {
            final int errno = scratch.errno();
            if (errno != Errno.EINTR) {
                throw new SysException("close(fd=" + fd + ")", errno);
            }
        }
    }

    /** Closes {@code fd} if it is not negative, ignoring failure: for error and clean-up paths. */
    public static void closeQuietly(final int fd) {
        if (fd >= 0) {
            Libc.close(Libc.scratch().capture, fd);
        }
    }

    /** @return bytes read into {@code buffer} (0 at end of file), or {@link #WOULD_BLOCK} */
    public static long read(final int fd, final MemorySegment buffer) {
        return read(fd, buffer, buffer.byteSize());
    }

    /** @return bytes read into the first {@code count} bytes of {@code buffer}, or {@link #WOULD_BLOCK} */
    public static long read(final int fd, final MemorySegment buffer, final long count) {
        checkCount(buffer, count);
        final Libc.Scratch scratch = Libc.scratch();
        long n;
        do {
            n = Libc.read(scratch.capture, fd, buffer, count);
        } while (n < 0 && (n = failed(scratch.errno(), "read", fd)) == RETRY);
        return n;
    }

    /**
     * Reads at file offset {@code offset} without using or moving the descriptor's file position: the way to read
     * files whose lseek does nothing, such as KVM's binary statistics descriptor ({@code noop_llseek}).
     *
     * @return bytes read into the first {@code count} bytes of {@code buffer} (0 at end of file), or
     *         {@link #WOULD_BLOCK}
     */
    public static long pread(final int fd, final MemorySegment buffer, final long count, final long offset) {
        checkCount(buffer, count);
        final Libc.Scratch scratch = Libc.scratch();
        long n;
        do {
            n = Libc.pread(scratch.capture, fd, buffer, count, offset);
        } while (n < 0 && (n = failed(scratch.errno(), "pread", fd)) == RETRY);
        return n;
    }

    /** @return bytes written from {@code buffer}, or {@link #WOULD_BLOCK} */
    public static long write(final int fd, final MemorySegment buffer) {
        return write(fd, buffer, buffer.byteSize());
    }

    /** @return bytes written from the first {@code count} bytes of {@code buffer}, or {@link #WOULD_BLOCK} */
    public static long write(final int fd, final MemorySegment buffer, final long count) {
        checkCount(buffer, count);
        final Libc.Scratch scratch = Libc.scratch();
        long n;
        do {
            n = Libc.write(scratch.capture, fd, buffer, count);
        } while (n < 0 && (n = failed(scratch.errno(), "write", fd)) == RETRY);
        return n;
    }

    /**
     * Scatter read into the first {@code count} entries of {@code iov}.
     *
     * @return bytes read, or {@link #WOULD_BLOCK}
     */
    public static long readv(final int fd, final IoVecArray iov, final int count) {
        iov.checkCount(count);
        final Libc.Scratch scratch = Libc.scratch();
        long n;
        do {
            n = Libc.readv(scratch.capture, fd, iov.segment(), count);
        } while (n < 0 && (n = failed(scratch.errno(), "readv", fd)) == RETRY);
        return n;
    }

    /**
     * Gather write of the first {@code count} entries of {@code iov}.
     *
     * @return bytes written, or {@link #WOULD_BLOCK}
     */
    public static long writev(final int fd, final IoVecArray iov, final int count) {
        iov.checkCount(count);
        final Libc.Scratch scratch = Libc.scratch();
        long n;
        do {
            n = Libc.writev(scratch.capture, fd, iov.segment(), count);
        } while (n < 0 && (n = failed(scratch.errno(), "writev", fd)) == RETRY);
        return n;
    }

    /** @return the new file offset */
    public static long lseek(final int fd, final long offset, final int whence) {
        final Libc.Scratch scratch = Libc.scratch();
        final long position = Libc.lseek(scratch.capture, fd, offset, whence);
        if (position < 0) {
            throw new SysException("lseek(fd=" + fd + ", " + offset + ", " + whence + ")", scratch.errno());
        }
        return position;
    }

    /** @return the size in bytes of the file behind {@code fd} (seeks to its end) */
    public static long sizeOf(final int fd) {
        return lseek(fd, 0, SEEK_END);
    }

    /** Sets or clears O_NONBLOCK on {@code fd}. */
    public static void setNonBlocking(final int fd, final boolean nonBlocking) {
        final Libc.Scratch scratch = Libc.scratch();
        final int flags = Libc.fcntl(scratch.capture, fd, F_GETFL, 0);
        if (flags < 0) {
            throw new SysException("fcntl(fd=" + fd + ", F_GETFL)", scratch.errno());
        }
        final int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags && Libc.fcntl(scratch.capture, fd, F_SETFL, wanted) < 0) {
            throw new SysException("fcntl(fd=" + fd + ", F_SETFL)", scratch.errno());
        }
    }

    private static final long RETRY = -2;

    /**
     * Decides what a failed call returns: {@link #RETRY} after EINTR, {@link #WOULD_BLOCK} for EAGAIN; anything
     * else throws.
     */
    static long failed(final int errno, final String call, final int fd) {
        if (errno == Errno.EINTR) {
            return RETRY;
        }
        if (errno == Errno.EAGAIN) {
            return WOULD_BLOCK;
        }
        throw new SysException(call + "(fd=" + fd + ")", errno);
    }

    private static void checkCount(final MemorySegment buffer, final long count) {
        if (count < 0 || count > buffer.byteSize()) {
            throw new IndexOutOfBoundsException("count " + count + " outside a buffer of " + buffer.byteSize() + " bytes");
        }
    }
}

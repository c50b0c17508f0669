package io.vioplane.platform.sys;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An eventfd(2) counter: the kick and call doorbells of virtqueues, shared with QEMU, DPDK and KVM by
 * descriptor.
 *
 * <p>{@link #signal()} and {@link #drain()} allocate nothing. An instance either owns its descriptor
 * (created here, closed by {@link #close()}) or adopts one received from a peer, which it then owns too.
 */
public final class EventFd implements AutoCloseable {
    public static final int EFD_SEMAPHORE = 0x1;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    private final int fd;
    private volatile boolean closed;

    private EventFd(final int fd) {
        this.fd = fd;
    }

    /** @return a new non-blocking, close-on-exec eventfd with counter 0 */
    public static EventFd create() {
        return create(0, EFD_NONBLOCK);
    }

    /**
     * @param initialValue the counter's starting value
     * @param flags        {@code EFD_*} flags; close-on-exec is always added
     */
    public static EventFd create(final int initialValue, final int flags) {
        final Libc.Scratch scratch = Libc.scratch();
        final int fd = Libc.eventfd(scratch.capture, initialValue, flags | EFD_CLOEXEC);
        if (fd < 0) {
            throw new SysException("eventfd(" + initialValue + ", " + flags + ")", scratch.errno());
        }
        return new EventFd(fd);
    }

    /** Takes ownership of an eventfd descriptor received from a peer. */
    public static EventFd adopt(final int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new EventFd(fd);
    }

    /** @return the descriptor, for epoll and for passing to a peer */
    public int fd() {
        return fd;
    }

    /** Adds 1 to the counter, waking a reader. */
    public void signal() {
        add(1);
    }

    /**
     * Adds {@code value} to the counter.
     *
     * @return false if the counter would overflow and the descriptor is non-blocking (the reader has not
     *     drained 2^64-2 signals, so it is awake anyway)
     */
    public boolean add(final long value) {
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment word = scratch.word;
        word.set(JAVA_LONG, 0, value);
        while (true) {
            final long n = Libc.write(scratch.capture, fd, word, 8);
            if (n == 8) {
                return true;
            }
            final int errno = scratch.errno();
            if (errno == Errno.EAGAIN) {
                return false;
            }
            if (errno != Errno.EINTR) {
                throw new SysException("eventfd write(fd=" + fd + ")", errno);
            }
        }
    }

    /**
     * Reads and resets the counter (one unit in semaphore mode).
     *
     * @return the value read, or 0 if the descriptor is non-blocking and the counter is 0
     */
    public long drain() {
        return drain(fd);
    }

    /**
     * Reads and resets the counter of the eventfd {@code fd} (one unit in semaphore mode).
     *
     * @return the value read, or 0 if {@code fd} is non-blocking and its counter is 0
     */
    public static long drain(final int fd) {
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment word = scratch.word;
        while (true) {
            final long n = Libc.read(scratch.capture, fd, word, 8);
            if (n == 8) {
                return word.get(JAVA_LONG, 0);
            }
            final int errno = scratch.errno();
            if (errno == Errno.EAGAIN) {
                return 0;
            }
            if (errno != Errno.EINTR) {
                throw new SysException("eventfd read(fd=" + fd + ")", errno);
            }
        }
    }

    /** Closes the descriptor once; later calls do nothing. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            FileIo.close(fd);
        }
    }

    @Override
    public String toString() {
        return "EventFd[fd=" + fd + (closed ? ", closed]" : "]");
    }
}

package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * An epoll(7) instance with its own event buffer: how a data-plane thread that has run out of work blocks
 * on its kick eventfds.
 *
 * <pre>
 *   struct epoll_event {   (packed on x86-64)
 *     0  u32 events;
 *     4  u64 data;
 *   };  12 bytes
 * </pre>
 *
 * One owner thread; {@link #await} allocates nothing.
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLET = 1 << 31;

    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int CTL_ADD = 1;
    private static final int CTL_DEL = 2;
    private static final int CTL_MOD = 3;
    private static final int EVENT_BYTES = 12;

    private final int fd;
    private final Arena arena;
    private final MemorySegment events;
    private final MemorySegment control;
    private final int capacity;
    private boolean closed;

    /** @param capacity how many ready descriptors one {@link #await} reports at most */
    public Epoll(final int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("epoll capacity must be positive: " + capacity);
        }
        final Libc.Scratch scratch = Libc.scratch();
        final int epfd = Libc.epollCreate1(scratch.capture, EPOLL_CLOEXEC);
        if (epfd < 0) {
            throw new SysException("epoll_create1", scratch.errno());
        }
        this.fd = epfd;
        this.capacity = capacity;
        this.arena = Arena.ofShared();
        this.events = arena.allocate((long) capacity * EVENT_BYTES, 8);
        this.control = arena.allocate(EVENT_BYTES, 8);
    }

    /** @return the epoll descriptor itself */
    public int fd() {
        return fd;
    }

    /** Watches {@code watchedFd} for {@code interest} ({@code EPOLL*} bits), reporting {@code data} with it. */
    public void add(final int watchedFd, final int interest, final long data) {
        control(CTL_ADD, watchedFd, interest, data, "EPOLL_CTL_ADD");
    }

    /** Changes the interest set or data of a watched descriptor. */
    public void modify(final int watchedFd, final int interest, final long data) {
        control(CTL_MOD, watchedFd, interest, data, "EPOLL_CTL_MOD");
    }

    /** Stops watching {@code watchedFd}; a descriptor that is already closed is ignored. */
    public void remove(final int watchedFd) {
        final Libc.Scratch scratch = Libc.scratch();
        synchronized (control) {
            if (Libc.epollCtl(scratch.capture, fd, CTL_DEL, watchedFd, control) < 0) {
                final int errno = scratch.errno();
                if (errno != Errno.EBADF && errno != Errno.ENOENT) {
                    throw new SysException("epoll_ctl(EPOLL_CTL_DEL, fd=" + watchedFd + ")", errno);
                }
            }
        }
    }

    private void control(final int op, final int watchedFd, final int interest, final long data, final String name) {
        final Libc.Scratch scratch = Libc.scratch();
        synchronized (control) {
            control.set(JAVA_INT_UNALIGNED, 0, interest);
            control.set(JAVA_LONG_UNALIGNED, 4, data);
            if (Libc.epollCtl(scratch.capture, fd, op, watchedFd, control) < 0) {
                throw new SysException("epoll_ctl(" + name + ", fd=" + watchedFd + ")", scratch.errno());
            }
        }
    }

    /**
     * Waits until a watched descriptor is ready or {@code timeoutMs} passes (-1: forever, 0: poll).
     *
     * @return how many ready entries {@link #events(int)} and {@link #data(int)} now describe; 0 on timeout
     *     or when a signal interrupted the wait
     */
    public int await(final int timeoutMs) {
        final Libc.Scratch scratch = Libc.scratch();
        final int n = Libc.epollWait(scratch.capture, fd, events, capacity, timeoutMs);
        if (n < 0) {
            final int errno = scratch.errno();
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw new SysException("epoll_wait(fd=" + fd + ")", errno);
        }
        return n;
    }

    /** @return the ready bits of entry {@code index} from the last {@link #await} */
    public int events(final int index) {
        return events.get(JAVA_INT_UNALIGNED, (long) checked(index) * EVENT_BYTES);
    }

    /** @return the data registered with entry {@code index} from the last {@link #await} */
    public long data(final int index) {
        return events.get(JAVA_LONG_UNALIGNED, (long) checked(index) * EVENT_BYTES + 4);
    }

    private int checked(final int index) {
        if (index < 0 || index >= capacity) {
            throw new IndexOutOfBoundsException("epoll event " + index + " of " + capacity);
        }
        return index;
    }

    /** Closes the epoll descriptor and frees the event buffer. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            FileIo.closeQuietly(fd);
            arena.close();
        }
    }
}

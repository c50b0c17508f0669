package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The method handles of every C library function vioplane calls, with errno captured per call.
 *
 * <p>Each handle takes the errno capture segment as its first argument. {@link Scratch} gives each
 * thread its own capture segment and a small native work area, so a call allocates nothing. The
 * wrappers return the raw result; a negative result means the call failed and {@link Scratch#errno()}
 * holds the reason.
 */
final class Libc {
    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle CLOSE = errnoHandle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle OPEN = errnoHandle("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle READ = errnoHandle("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = errnoHandle("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle READV = errnoHandle("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle WRITEV = errnoHandle("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PREAD = errnoHandle("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PREADV2 = errnoHandle("preadv2",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PWRITEV2 = errnoHandle("pwritev2",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FDATASYNC = errnoHandle("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FALLOCATE = errnoHandle("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK = errnoHandle("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FCNTL = errnoHandle("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = errnoHandle("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = errnoHandle("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MADVISE = errnoHandle("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = errnoHandle("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = errnoHandle("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle EVENTFD = errnoHandle("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL_PTR = errnoHandle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = errnoHandle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SOCKET = errnoHandle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = errnoHandle("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BIND = errnoHandle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = errnoHandle("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = errnoHandle("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = errnoHandle("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = errnoHandle("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SENDMSG = errnoHandle("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = errnoHandle("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = errnoHandle("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = errnoHandle("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = errnoHandle("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETPID = errnoHandle("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SCHED_GETAFFINITY = errnoHandle("sched_getaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle SCHED_SETAFFINITY = errnoHandle("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle SYSCONF = errnoHandle("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle SYSCALL = errnoHandle("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(symbol("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Libc() {
    }

    /**
     * Per-thread native memory for errno capture and small call structures, allocated once per thread.
     */
    static final class Scratch {
        /** Bytes of general work area: msghdr, iovec, sockaddr_un, control buffer, 8-byte counters. */
        static final long WORK_BYTES = 512;

        final MemorySegment capture;
        final MemorySegment work;
        /** An 8-byte value for eventfd reads and writes. */
        final MemorySegment word;

        Scratch() {
            final Arena arena = Arena.ofAuto();
            capture = arena.allocate(CAPTURE_LAYOUT);
            work = arena.allocate(WORK_BYTES, 16);
            word = arena.allocate(8, 8);
        }

        int errno() {
            return (int) ERRNO.get(capture, 0L);
        }
    }

    static Scratch scratch() {
        return SCRATCH.get();
    }

    private static MemorySegment symbol(final String name) {
        return LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("C library has no symbol " + name));
    }

    private static MethodHandle errnoHandle(final String name, final FunctionDescriptor descriptor,
                                            final Linker.Option... extra) {
        final Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(symbol(name), descriptor, options);
    }

    private static RuntimeException rethrow(final Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("unexpected checked exception from a downcall", t);
    }

    /** A raw system call with six arguments (unused ones 0), for calls the C library does not wrap. */
    static long syscall(final MemorySegment capture, final long number, final long a1, final long a2, final long a3,
                        final long a4, final long a5, final long a6) {
        try {
            return (long) SYSCALL.invokeExact(capture, number, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int close(final MemorySegment capture, final int fd) {
        try {
            return (int) CLOSE.invokeExact(capture, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int open(final MemorySegment capture, final MemorySegment path, final int flags, final int mode) {
        try {
            return (int) OPEN.invokeExact(capture, path, flags, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long read(final MemorySegment capture, final int fd, final MemorySegment buffer, final long count) {
        try {
            return (long) READ.invokeExact(capture, fd, buffer, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long write(final MemorySegment capture, final int fd, final MemorySegment buffer, final long count) {
        try {
            return (long) WRITE.invokeExact(capture, fd, buffer, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long readv(final MemorySegment capture, final int fd, final MemorySegment iov, final int iovCount) {
        try {
            return (long) READV.invokeExact(capture, fd, iov, iovCount);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long writev(final MemorySegment capture, final int fd, final MemorySegment iov, final int iovCount) {
        try {
            return (long) WRITEV.invokeExact(capture, fd, iov, iovCount);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long pread(final MemorySegment capture, final int fd, final MemorySegment buffer, final long count,
                      final long offset) {
        try {
            return (long) PREAD.invokeExact(capture, fd, buffer, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long preadv2(final MemorySegment capture, final int fd, final MemorySegment iov, final int iovCount,
                        final long offset, final int flags) {
        try {
            return (long) PREADV2.invokeExact(capture, fd, iov, iovCount, offset, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long pwritev2(final MemorySegment capture, final int fd, final MemorySegment iov, final int iovCount,
                         final long offset, final int flags) {
        try {
            return (long) PWRITEV2.invokeExact(capture, fd, iov, iovCount, offset, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fdatasync(final MemorySegment capture, final int fd) {
        try {
            return (int) FDATASYNC.invokeExact(capture, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fallocate(final MemorySegment capture, final int fd, final int mode, final long offset,
                         final long length) {
        try {
            return (int) FALLOCATE.invokeExact(capture, fd, mode, offset, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long lseek(final MemorySegment capture, final int fd, final long offset, final int whence) {
        try {
            return (long) LSEEK.invokeExact(capture, fd, offset, whence);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fcntl(final MemorySegment capture, final int fd, final int command, final int argument) {
        try {
            return (int) FCNTL.invokeExact(capture, fd, command, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static MemorySegment mmap(final MemorySegment capture, final MemorySegment address, final long length,
                              final int protection, final int flags, final int fd, final long offset) {
        try {
            return (MemorySegment) MMAP.invokeExact(capture, address, length, protection, flags, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int munmap(final MemorySegment capture, final MemorySegment address, final long length) {
        try {
            return (int) MUNMAP.invokeExact(capture, address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int madvise(final MemorySegment capture, final MemorySegment address, final long length, final int advice) {
        try {
            return (int) MADVISE.invokeExact(capture, address, length, advice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int memfdCreate(final MemorySegment capture, final MemorySegment name, final int flags) {
        try {
            return (int) MEMFD_CREATE.invokeExact(capture, name, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ftruncate(final MemorySegment capture, final int fd, final long length) {
        try {
            return (int) FTRUNCATE.invokeExact(capture, fd, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int eventfd(final MemorySegment capture, final int initialValue, final int flags) {
        try {
            return (int) EVENTFD.invokeExact(capture, initialValue, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioctl(final MemorySegment capture, final int fd, final long request, final MemorySegment argument) {
        try {
            return (int) IOCTL_PTR.invokeExact(capture, fd, request, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioctl(final MemorySegment capture, final int fd, final long request, final long argument) {
        try {
            return (int) IOCTL_LONG.invokeExact(capture, fd, request, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int socket(final MemorySegment capture, final int domain, final int type, final int protocol) {
        try {
            return (int) SOCKET.invokeExact(capture, domain, type, protocol);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int socketpair(final MemorySegment capture, final int domain, final int type, final int protocol,
                          final MemorySegment fds) {
        try {
            return (int) SOCKETPAIR.invokeExact(capture, domain, type, protocol, fds);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int bind(final MemorySegment capture, final int fd, final MemorySegment address, final int addressLength) {
        try {
            return (int) BIND.invokeExact(capture, fd, address, addressLength);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int listen(final MemorySegment capture, final int fd, final int backlog) {
        try {
            return (int) LISTEN.invokeExact(capture, fd, backlog);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int accept4(final MemorySegment capture, final int fd, final int flags) {
        try {
            return (int) ACCEPT4.invokeExact(capture, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int connect(final MemorySegment capture, final int fd, final MemorySegment address, final int addressLength) {
        try {
            return (int) CONNECT.invokeExact(capture, fd, address, addressLength);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int shutdown(final MemorySegment capture, final int fd, final int how) {
        try {
            return (int) SHUTDOWN.invokeExact(capture, fd, how);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long sendmsg(final MemorySegment capture, final int fd, final MemorySegment message, final int flags) {
        try {
            return (long) SENDMSG.invokeExact(capture, fd, message, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recvmsg(final MemorySegment capture, final int fd, final MemorySegment message, final int flags) {
        try {
            return (long) RECVMSG.invokeExact(capture, fd, message, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollCreate1(final MemorySegment capture, final int flags) {
        try {
            return (int) EPOLL_CREATE1.invokeExact(capture, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollCtl(final MemorySegment capture, final int epfd, final int op, final int fd, final MemorySegment event) {
        try {
            return (int) EPOLL_CTL.invokeExact(capture, epfd, op, fd, event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollWait(final MemorySegment capture, final int epfd, final MemorySegment events, final int maxEvents,
                         final int timeoutMs) {
        try {
            return (int) EPOLL_WAIT.invokeExact(capture, epfd, events, maxEvents, timeoutMs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getpid(final MemorySegment capture) {
        try {
            return (int) GETPID.invokeExact(capture);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int schedGetAffinity(final MemorySegment capture, final long setBytes, final MemorySegment set) {
        try {
            return (int) SCHED_GETAFFINITY.invokeExact(capture, 0, setBytes, set);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int schedSetAffinity(final MemorySegment capture, final long setBytes, final MemorySegment set) {
        try {
            return (int) SCHED_SETAFFINITY.invokeExact(capture, 0, setBytes, set);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long sysconf(final MemorySegment capture, final int name) {
        try {
            return (long) SYSCONF.invokeExact(capture, name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String strerror(final int errno) {
        try {
            final MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "unknown" : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "unknown";
        }
    }
}

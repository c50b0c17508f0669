package io.vioplane.platform.sys;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * AF_UNIX stream sockets with descriptor passing (unix(7), SCM_RIGHTS; sendmsg(2), recvmsg(2)): the
 * transport of vhost-user.
 *
 * <p>The kernel attaches a message's descriptors to its first byte, so a receiver that must keep bytes and
 * descriptors paired reads exactly one message's bytes per call: {@link #receive} reads at most the length
 * it is given. Messages carrying more than {@link ReceivedFds#MAX_FDS} descriptors are detected
 * (MSG_CTRUNC): the descriptors that did arrive are closed and the call throws.
 *
 * <p>The msghdr, iovec, control buffer and sockaddr live in the calling thread's scratch area: no
 * allocation per message.
 *
 * <pre>
 *   struct msghdr {                 struct cmsghdr {
 *     0  void   *msg_name;            0  size_t cmsg_len;
 *     8  u32     msg_namelen;         8  int    cmsg_level;  (SOL_SOCKET = 1)
 *    16  iovec  *msg_iov;            12  int    cmsg_type;   (SCM_RIGHTS = 1)
 *    24  size_t  msg_iovlen;         16  int    fds[];
 *    32  void   *msg_control;       };
 *    40  size_t  msg_controllen;
 *    48  int     msg_flags;
 *   };  56 bytes
 * </pre>
 */
public final class UnixSockets {
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int SHUT_RDWR = 2;

    static final int MSG_CTRUNC = 0x8;
    static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;

    private static final long MSGHDR = 0;
    private static final long IOVEC = 64;
    private static final long CONTROL = 128;
    private static final long CMSG_HEADER_BYTES = 16;
    private static final long CONTROL_BYTES = CMSG_HEADER_BYTES + 4L * ReceivedFds.MAX_FDS;
    private static final long SOCKADDR = 192;
    static final int MAX_SEND_FDS = (int) ((SOCKADDR - CONTROL - CMSG_HEADER_BYTES) / 4);
    private static final int SUN_PATH_BYTES = 108;
    private static final int SOCKADDR_UN_BYTES = 2 + SUN_PATH_BYTES;
    private static final long PAIR = 320;
    private static final int[] NO_FDS = new int[0];

    private UnixSockets() {
    }

    /** @return a new AF_UNIX stream socket, close-on-exec */
    public static int socket(final boolean nonBlocking) {
        final Libc.Scratch scratch = Libc.scratch();
        final int fd = Libc.socket(scratch.capture, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0), 0);
        if (fd < 0) {
            throw new SysException("socket(AF_UNIX, SOCK_STREAM)", scratch.errno());
        }
        return fd;
    }

    /** @return two connected AF_UNIX stream sockets, close-on-exec */
    public static int[] socketPair() {
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment pair = scratch.work.asSlice(PAIR, 8);
        if (Libc.socketpair(scratch.capture, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
            throw new SysException("socketpair(AF_UNIX, SOCK_STREAM)", scratch.errno());
        }
        return new int[] {pair.get(JAVA_INT, 0), pair.get(JAVA_INT, 4)};
    }

    /** Binds {@code fd} to the filesystem path {@code path}. */
    public static void bind(final int fd, final String path) {
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment address = socketAddress(scratch, path);
        if (Libc.bind(scratch.capture, fd, address, SOCKADDR_UN_BYTES) < 0) {
            throw new SysException("bind(" + path + ")", scratch.errno());
        }
    }

    /** Marks {@code fd} as listening with {@code backlog} pending connections. */
    public static void listen(final int fd, final int backlog) {
        final Libc.Scratch scratch = Libc.scratch();
        if (Libc.listen(scratch.capture, fd, backlog) < 0) {
            throw new SysException("listen(fd=" + fd + ")", scratch.errno());
        }
    }

    /**
     * Accepts one connection, close-on-exec.
     *
     * @return the connected descriptor, or -1 if the listening socket is non-blocking and none is pending
     */
    public static int accept(final int listeningFd, final boolean nonBlocking) {
        final Libc.Scratch scratch = Libc.scratch();
        while (true) {
            final int fd = Libc.accept4(scratch.capture, listeningFd, SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0));
            if (fd >= 0) {
                return fd;
            }
            final int errno = scratch.errno();
            if (errno == Errno.EAGAIN) {
                return -1;
            }
            if (errno != Errno.EINTR) {
                throw new SysException("accept(fd=" + listeningFd + ")", errno);
            }
        }
    }

    /** Connects {@code fd} to the socket at {@code path}. */
    public static void connect(final int fd, final String path) {
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment address = socketAddress(scratch, path);
        if (Libc.connect(scratch.capture, fd, address, SOCKADDR_UN_BYTES) < 0) {
            throw new SysException("connect(" + path + ")", scratch.errno());
        }
    }

    /** Shuts both directions of {@code fd} down, waking any thread blocked on it; ignores failure. */
    public static void shutdownQuietly(final int fd) {
        if (fd >= 0) {
            Libc.shutdown(Libc.scratch().capture, fd, SHUT_RDWR);
        }
    }

    /**
     * Sends the first {@code lengthBytes} of {@code data} with {@code fdCount} descriptors from {@code fds}
     * attached to its first byte. Never raises SIGPIPE.
     *
     * @return bytes sent (a stream socket may take fewer), or {@link FileIo#WOULD_BLOCK}
     */
    public static long send(final int fd, final MemorySegment data, final long lengthBytes, final int[] fds,
                            final int fdCount, final int flags) {
        return send(fd, data, lengthBytes, fds, fdCount, flags, ReceivedFds.MAX_FDS);
    }

    /** As {@link #send}, with a higher descriptor limit: lets tests play a peer that sends too many. */
    static long send(final int fd, final MemorySegment data, final long lengthBytes, final int[] fds,
                     final int fdCount, final int flags, final int maxFds) {
        if (maxFds > MAX_SEND_FDS || fdCount < 0 || fdCount > maxFds || (fdCount > 0 && fds.length < fdCount)) {
            throw new IllegalArgumentException("fd count must be 0.." + maxFds + ": " + fdCount);
        }
        if (lengthBytes < 0 || lengthBytes > data.byteSize()) {
            throw new IndexOutOfBoundsException("length " + lengthBytes + " outside " + data.byteSize() + " bytes");
        }
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment work = scratch.work;
        work.asSlice(MSGHDR, 56).fill((byte) 0);
        work.set(JAVA_LONG, IOVEC, data.address());
        work.set(JAVA_LONG, IOVEC + 8, lengthBytes);
        work.set(JAVA_LONG, MSGHDR + 16, work.address() + IOVEC);
        work.set(JAVA_LONG, MSGHDR + 24, 1);
        if (fdCount > 0) {
            final long cmsgLength = CMSG_HEADER_BYTES + 4L * fdCount;
            work.set(JAVA_LONG, CONTROL, cmsgLength);
            work.set(JAVA_INT, CONTROL + 8, SOL_SOCKET);
            work.set(JAVA_INT, CONTROL + 12, SCM_RIGHTS);
            for (int i = 0; i < fdCount; i++) {
                work.set(JAVA_INT, CONTROL + CMSG_HEADER_BYTES + 4L * i, fds[i]);
            }
            work.set(JAVA_LONG, MSGHDR + 32, work.address() + CONTROL);
            work.set(JAVA_LONG, MSGHDR + 40, align8(cmsgLength));
        }
        while (true) {
            final long n = Libc.sendmsg(scratch.capture, fd, work.asSlice(MSGHDR, 56), flags | MSG_NOSIGNAL);
            if (n >= 0) {
                return n;
            }
            final int errno = scratch.errno();
            if (errno == Errno.EAGAIN) {
                return FileIo.WOULD_BLOCK;
            }
            if (errno != Errno.EINTR) {
                throw new SysException("sendmsg(fd=" + fd + ", " + lengthBytes + " bytes, " + fdCount + " fds)", errno);
            }
        }
    }

    /**
     * Receives at most {@code lengthBytes} into {@code buffer}; descriptors that arrive with them are
     * appended to {@code fdsOut} (close-on-exec).
     *
     * @return bytes received, 0 when the peer closed, or {@link FileIo#WOULD_BLOCK}
     * @throws SysException with EMSGSIZE when the peer attached more descriptors than fit (they are closed)
     */
    public static long receive(final int fd, final MemorySegment buffer, final long lengthBytes,
                               final ReceivedFds fdsOut, final int flags) {
        if (lengthBytes < 0 || lengthBytes > buffer.byteSize()) {
            throw new IndexOutOfBoundsException("length " + lengthBytes + " outside " + buffer.byteSize() + " bytes");
        }
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment work = scratch.work;
        work.asSlice(MSGHDR, 56).fill((byte) 0);
        work.set(JAVA_LONG, IOVEC, buffer.address());
        work.set(JAVA_LONG, IOVEC + 8, lengthBytes);
        work.set(JAVA_LONG, MSGHDR + 16, work.address() + IOVEC);
        work.set(JAVA_LONG, MSGHDR + 24, 1);
        work.set(JAVA_LONG, MSGHDR + 32, work.address() + CONTROL);
        work.set(JAVA_LONG, MSGHDR + 40, CONTROL_BYTES);
        long n;
        while (true) {
            n = Libc.recvmsg(scratch.capture, fd, work.asSlice(MSGHDR, 56), flags | MSG_CMSG_CLOEXEC);
            if (n >= 0) {
                break;
            }
            final int errno = scratch.errno();
            if (errno == Errno.EAGAIN) {
                return FileIo.WOULD_BLOCK;
            }
            if (errno != Errno.EINTR) {
                throw new SysException("recvmsg(fd=" + fd + ")", errno);
            }
        }
        final boolean overflow = collectDescriptors(work, fdsOut);
        final int messageFlags = work.get(JAVA_INT, MSGHDR + 48);
        if (overflow || (messageFlags & MSG_CTRUNC) != 0) {
            fdsOut.closeAll();
            throw new SysException("recvmsg(fd=" + fd + "): the peer attached more than " + ReceivedFds.MAX_FDS
                    + " descriptors; control data truncated", Errno.EMSGSIZE);
        }
        return n;
    }

    /**
     * Receives exactly {@code lengthBytes} on a blocking socket, in as many calls as the stream needs: for protocols
     * whose header announces the length of what follows (QEMU's mpqemu). Descriptors that arrive on the way are
     * appended to {@code fdsOut}.
     *
     * @return {@code lengthBytes}, or fewer if the peer closed first (0: it closed before the first byte)
     * @throws SysException as {@link #receive}; EAGAIN is an error here (the socket must block)
     */
    public static long receiveFully(final int fd, final MemorySegment buffer, final long lengthBytes,
                                    final ReceivedFds fdsOut) {
        if (lengthBytes < 0 || lengthBytes > buffer.byteSize()) {
            throw new IndexOutOfBoundsException("length " + lengthBytes + " outside " + buffer.byteSize() + " bytes");
        }
        long received = 0;
        while (received < lengthBytes) {
            final long n = receive(fd, received == 0 ? buffer : buffer.asSlice(received), lengthBytes - received,
                    fdsOut, 0);
            if (n == 0) {
                return received;
            }
            if (n == FileIo.WOULD_BLOCK) {
                throw new SysException("recvmsg(fd=" + fd + "): socket is non-blocking", Errno.EAGAIN);
            }
            received += n;
        }
        return received;
    }

    /**
     * Sends all of the first {@code lengthBytes} of {@code data} on a blocking socket, without descriptors.
     *
     * @throws SysException as {@link #send}, EPIPE when the peer is gone
     */
    public static void sendFully(final int fd, final MemorySegment data, final long lengthBytes) {
        long sent = 0;
        while (sent < lengthBytes) {
            final long n = send(fd, sent == 0 ? data : data.asSlice(sent), lengthBytes - sent, NO_FDS, 0, 0);
            if (n == FileIo.WOULD_BLOCK) {
                throw new SysException("sendmsg(fd=" + fd + "): socket is non-blocking", Errno.EAGAIN);
            }
            sent += n;
        }
    }

    private static boolean collectDescriptors(final MemorySegment work, final ReceivedFds fdsOut) {
        final long controlLength = Math.min(work.get(JAVA_LONG, MSGHDR + 40), CONTROL_BYTES);
        boolean overflow = false;
        long offset = 0;
        while (offset + CMSG_HEADER_BYTES <= controlLength) {
            final long cmsgLength = work.get(JAVA_LONG, CONTROL + offset);
            if (cmsgLength < CMSG_HEADER_BYTES || offset + cmsgLength > controlLength) {
                break;
            }
            final int level = work.get(JAVA_INT, CONTROL + offset + 8);
            final int type = work.get(JAVA_INT, CONTROL + offset + 12);
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                final long count = (cmsgLength - CMSG_HEADER_BYTES) / 4;
                for (long i = 0; i < count; i++) {
                    final int received = work.get(JAVA_INT, CONTROL + offset + CMSG_HEADER_BYTES + 4 * i);
                    if (!fdsOut.append(received)) {
                        overflow = true;
                    }
                }
            }
            offset += align8(cmsgLength);
        }
        return overflow;
    }

    private static MemorySegment socketAddress(final Libc.Scratch scratch, final String path) {
        final byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length >= SUN_PATH_BYTES) {
            throw new IllegalArgumentException("a unix socket path must be 1.." + (SUN_PATH_BYTES - 1)
                    + " bytes: " + path);
        }
        final MemorySegment address = scratch.work.asSlice(SOCKADDR, SOCKADDR_UN_BYTES);
        address.fill((byte) 0);
        address.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, address, JAVA_BYTE, 2, bytes.length);
        return address;
    }

    private static long align8(final long value) {
        return (value + 7) & ~7L;
    }
}

package io.vioplane.vhostuser.testing;

import io.vioplane.platform.sys.Epoll;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.PeerSockets;
import io.vioplane.platform.sys.ReceivedFds;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.VhostUserHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A vhost-user front-end for tests: speaks the protocol over a real AF_UNIX socket (descriptors as SCM_RIGHTS
 * through {@link UnixSockets#send}), honestly or not. Writes whole messages, raw byte streams, or streams cut into
 * pieces; reads replies byte for byte with a timeout.
 */
public final class TestFrontEnd implements AutoCloseable {
    /** Flags of a plain request (version 1). */
    public static final int FLAGS = VhostUserHeader.VERSION;
    /** Flags of a request with NEED_REPLY. */
    public static final int FLAGS_NEED_REPLY = VhostUserHeader.VERSION | VhostUserHeader.FLAG_NEED_REPLY;
    /** Flags of a reply from the back-end. */
    public static final int FLAGS_REPLY = VhostUserHeader.VERSION | VhostUserHeader.FLAG_REPLY;
    public static final long TIMEOUT_MS = 10_000;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(1 << 16, 8);
    private final ReceivedFds received = new ReceivedFds();
    private final Epoll epoll = new Epoll(1);
    private boolean closed;

    private TestFrontEnd(final int fd) {
        this.fd = fd;
        epoll.add(fd, Epoll.EPOLLIN | Epoll.EPOLLRDHUP, 0);
    }

    /** Connects to a back-end listening at {@code path}. */
    public static TestFrontEnd connect(final Path path) {
        final int fd = UnixSockets.socket(false);
        try {
            UnixSockets.connect(fd, path.toString());
        } catch (RuntimeException e) {
            FileIo.closeQuietly(fd);
            throw e;
        }
        return new TestFrontEnd(fd);
    }

    /** Wraps a connected socket (taking ownership). */
    public static TestFrontEnd over(final int connectedFd) {
        return new TestFrontEnd(connectedFd);
    }

    /** @return the socket */
    public int fd() {
        return fd;
    }

    /** @return a 12-byte header followed by {@code payload}, native byte order */
    public static byte[] message(final int request, final int flags, final byte[] payload) {
        return ByteBuffer.allocate(VhostUserHeader.HEADER_BYTES + payload.length).order(ByteOrder.nativeOrder())
                .putInt(request).putInt(flags).putInt(payload.length).put(payload).array();
    }

    /** @return {@code values} as consecutive native-endian u64 */
    public static byte[] u64s(final long... values) {
        final ByteBuffer bytes = ByteBuffer.allocate(8 * values.length).order(ByteOrder.nativeOrder());
        for (long value : values) {
            bytes.putLong(value);
        }
        return bytes.array();
    }

    /** @return {@code values} as consecutive native-endian u32 */
    public static byte[] u32s(final int... values) {
        final ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.nativeOrder());
        for (int value : values) {
            bytes.putInt(value);
        }
        return bytes.array();
    }

    /** @return the concatenation of {@code parts} */
    public static byte[] concat(final byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        final byte[] all = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    /** Sends one well-formed message with {@code fds} attached to its first byte. */
    public void send(final int request, final int flags, final byte[] payload, final int... fds) {
        sendRaw(message(request, flags, payload), fds);
    }

    /** Sends {@code bytes} in one sendmsg with {@code fds} attached (more than 8 allowed: a hostile peer). */
    public void sendRaw(final byte[] bytes, final int... fds) {
        MemorySegment.copy(bytes, 0, buffer, JAVA_BYTE, 0, bytes.length);
        long sent = 0;
        boolean first = true;
        while (sent < bytes.length || (first && bytes.length == 0)) {
            final MemorySegment from = buffer.asSlice(sent);
            final long n = first && fds.length > 8
                    ? PeerSockets.sendWithManyFds(fd, from, bytes.length - sent, fds, fds.length)
                    : UnixSockets.send(fd, from, bytes.length - sent, first ? fds : new int[0],
                            first ? fds.length : 0, 0);
            first = false;
            sent += n;
            if (bytes.length == 0) {
                break;
            }
        }
    }

    /** Sends {@code bytes} in pieces of {@code pieceBytes}, one sendmsg each; {@code fds} go with the first piece. */
    public void sendInPieces(final byte[] bytes, final int pieceBytes, final int... fds) {
        for (int at = 0; at < bytes.length; at += pieceBytes) {
            sendRaw(Arrays.copyOfRange(bytes, at, Math.min(bytes.length, at + pieceBytes)), at == 0 ? fds : new int[0]);
        }
    }

    /** A reply as it came off the wire. */
    public record Reply(int request, int flags, byte[] payload, int fd) {
        /** @return the payload as a u64 */
        public long u64() {
            if (payload.length != 8) {
                throw new AssertionError("reply payload is " + payload.length + " bytes, not a u64: " + this);
            }
            return ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder()).getLong();
        }

        @Override
        public String toString() {
            return "Reply[request=" + request + ", flags=0x" + Integer.toHexString(flags) + ", payload="
                    + HexFormat.of().formatHex(payload) + ", fd=" + fd + "]";
        }
    }

    /**
     * Reads one reply (header, then its payload); a descriptor that came with it is returned (the caller closes
     * it), more than one fails.
     *
     * @throws AssertionError if none came within the timeout or the back-end closed the connection
     */
    public Reply readReply() {
        final byte[] header = readExactly(VhostUserHeader.HEADER_BYTES);
        final int attachedFd = received.count() > 0 ? received.take(0) : -1;
        received.closeAll();
        final ByteBuffer fields = ByteBuffer.wrap(header).order(ByteOrder.nativeOrder());
        final int request = fields.getInt();
        final int flags = fields.getInt();
        final int size = fields.getInt();
        if (size < 0 || size > VhostUserHeader.MAX_PAYLOAD_BYTES) {
            throw new AssertionError("reply announces " + Integer.toUnsignedString(size) + " bytes");
        }
        return new Reply(request, flags, readExactly(size), attachedFd);
    }

    /** @return the raw bytes of the next {@code count} bytes the back-end sends */
    public byte[] readExactly(final int count) {
        final byte[] bytes = new byte[count];
        int read = 0;
        final long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
        while (read < count) {
            final long n = UnixSockets.receive(fd, buffer, count - read, received, UnixSockets.MSG_DONTWAIT);
            if (n == FileIo.WOULD_BLOCK) {
                final long leftMs = (deadline - System.nanoTime()) / 1_000_000;
                if (leftMs <= 0) {
                    throw new AssertionError("no reply within " + TIMEOUT_MS + " ms (" + read + " of " + count
                            + " bytes)");
                }
                epoll.await((int) leftMs);
                continue;
            }
            if (n == 0) {
                throw new AssertionError("the back-end closed the connection (" + read + " of " + count + " bytes)");
            }
            MemorySegment.copy(buffer, JAVA_BYTE, 0, bytes, read, (int) n);
            read += (int) n;
        }
        return bytes;
    }

    /**
     * Waits until the back-end closes the connection; bytes it sends first are discarded.
     *
     * @return true if it closed within the timeout
     */
    public boolean awaitClosedByBackEnd() {
        final long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
        while (true) {
            final long n;
            try {
                n = UnixSockets.receive(fd, buffer, buffer.byteSize(), received, UnixSockets.MSG_DONTWAIT);
            } catch (SysException e) {
                return true;
            }
            received.closeAll();
            if (n == 0) {
                return true;
            }
            if (n == FileIo.WOULD_BLOCK) {
                final long leftMs = (deadline - System.nanoTime()) / 1_000_000;
                if (leftMs <= 0) {
                    return false;
                }
                epoll.await((int) leftMs);
            }
        }
    }

    /** @return true if nothing at all arrives within {@code waitMs} (the connection stays open and silent) */
    public boolean silentFor(final int waitMs) {
        final int ready = epoll.await(waitMs);
        return ready == 0;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            received.closeAll();
            epoll.close();
            FileIo.closeQuietly(fd);
            arena.close();
        }
    }
}

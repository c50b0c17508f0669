package io.vioplane.vhostuser.transport;

import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.ReceivedFds;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.protocol.VhostUserRequest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Moves whole vhost-user messages (QEMU {@code docs/interop/vhost-user.rst}, "Message Specification": a 12-byte
 * header, then {@code size} payload bytes, descriptors as SCM_RIGHTS ancillary data) over one non-blocking AF_UNIX
 * socket, however the kernel splits them: the one framing loop of the event-loop connection, the blocking back-end
 * channel and the front-end. Never blocks: {@link #receive()} and {@link #continueSend()} say when to wait, and the
 * caller waits its own way (epoll interest on an event loop, epoll with a deadline, a spin).
 *
 * <p>Receiving: the header is checked as soon as it is complete (version 1, payload at most
 * {@link VhostUserHeader#MAX_PAYLOAD_BYTES}); descriptors collect in {@link #fds()} until the caller closes what it
 * did not take. Sending: the descriptors go with the first byte of the message. Buffers are allocated once; the
 * steady path allocates nothing. One thread at a time. The socket stays the caller's.
 */
public final class MessageFramer {
    /** {@link #receive()}: a whole message is in {@link #header()} and {@link #payload()}. */
    public static final int MESSAGE = 1;
    /** {@link #receive()}: the socket has no more bytes for now. */
    public static final int WOULD_BLOCK = 0;
    /** {@link #receive()}: the peer closed the connection between messages. */
    public static final int CLOSED = -1;
    /** {@link #receive()}: the stream is broken ({@link #failure()} says how); the connection cannot go on. */
    public static final int BROKEN = -2;

    private final int socketFd;
    private final MemorySegment header;
    private final MemorySegment payload;
    private final ReceivedFds fds = new ReceivedFds();
    private int headerBytesRead;
    private int payloadBytes = -1;
    private int payloadBytesRead;
    private int request;
    private int flags;
    private String failure;

    private MemorySegment sending;
    private int[] sendFds;
    private int sendFdCount;
    private int sendOffset;
    private int sendRemaining;

    /** Frames messages on {@code socketFd} (non-blocking), with receive buffers from {@code arena}. */
    public MessageFramer(final int socketFd, final Arena arena) {
        this.socketFd = socketFd;
        this.header = arena.allocate(VhostUserHeader.HEADER_BYTES, 8);
        this.payload = arena.allocate(VhostUserHeader.MAX_PAYLOAD_BYTES, 8);
    }

    /**
     * Reads what the socket has toward the current message.
     *
     * @return {@link #MESSAGE}, {@link #WOULD_BLOCK}, {@link #CLOSED} or {@link #BROKEN}
     */
    public int receive() {
        if (payloadBytes >= 0 && payloadBytesRead == payloadBytes) {
            headerBytesRead = 0;
            payloadBytes = -1;
            payloadBytesRead = 0;
        }
        while (payloadBytes < 0) {
            final int n = read(headerBytesRead == 0 ? header : header.asSlice(headerBytesRead),
                    VhostUserHeader.HEADER_BYTES - headerBytesRead);
            if (n <= 0) {
                return n;
            }
            headerBytesRead += n;
            if (headerBytesRead == VhostUserHeader.HEADER_BYTES && !acceptHeader()) {
                return BROKEN;
            }
        }
        while (payloadBytesRead < payloadBytes) {
            final int n = read(payloadBytesRead == 0 ? payload : payload.asSlice(payloadBytesRead),
                    payloadBytes - payloadBytesRead);
            if (n <= 0) {
                return n;
            }
            payloadBytesRead += n;
        }
        return MESSAGE;
    }

    private boolean acceptHeader() {
        request = VhostUserHeader.request(header);
        flags = VhostUserHeader.flags(header);
        final long size = VhostUserHeader.size(header);
        if (!VhostUserHeader.hasVersion1(flags)) {
            return broken(VhostUserRequest.name(request) + " with flags 0x" + Integer.toHexString(flags)
                    + ": protocol version " + (flags & VhostUserHeader.VERSION_MASK) + ", not 1");
        }
        if (size > VhostUserHeader.MAX_PAYLOAD_BYTES) {
            return broken(VhostUserRequest.name(request) + " announces a payload of " + size + " bytes; at most "
                    + VhostUserHeader.MAX_PAYLOAD_BYTES);
        }
        payloadBytes = (int) size;
        payloadBytesRead = 0;
        return true;
    }

    /** @return bytes read (positive), or WOULD_BLOCK, CLOSED or BROKEN */
    private int read(final MemorySegment into, final int lengthBytes) {
        final long n;
        try {
            n = UnixSockets.receive(socketFd, into, lengthBytes, fds, UnixSockets.MSG_DONTWAIT);
        } catch (SysException e) {
            broken("receive failed: " + e.getMessage());
            return BROKEN;
        }
        if (n == FileIo.WOULD_BLOCK) {
            return WOULD_BLOCK;
        }
        if (n > 0) {
            return (int) n;
        }
        if (payloadBytes < 0 && headerBytesRead == 0 && fds.count() == 0) {
            failure = "the peer closed the connection";
            return CLOSED;
        }
        broken(payloadBytes < 0
                ? "end of file after " + headerBytesRead + " of " + VhostUserHeader.HEADER_BYTES + " header bytes"
                : "end of file after " + payloadBytesRead + " of " + payloadBytes + " payload bytes of "
                        + VhostUserRequest.name(request));
        return BROKEN;
    }

    private boolean broken(final String why) {
        failure = why;
        return false;
    }

    /** @return why the last {@link #receive()} returned {@link #BROKEN} or {@link #CLOSED} */
    public String failure() {
        return failure;
    }

    /** @return the request id of the message received (valid once its header is complete) */
    public int request() {
        return request;
    }

    /** @return the header flags of the message received */
    public int flags() {
        return flags;
    }

    /** @return the payload length of the message received */
    public int payloadBytes() {
        return payloadBytes;
    }

    /** @return the header buffer */
    public MemorySegment header() {
        return header;
    }

    /** @return the payload buffer (the message's payload is its first {@link #payloadBytes()} bytes) */
    public MemorySegment payload() {
        return payload;
    }

    /** @return the descriptors received with the current message; the caller closes what it did not take */
    public ReceivedFds fds() {
        return fds;
    }

    /**
     * Starts sending the first {@code lengthBytes} of {@code message} (header and payload) with {@code fdCount}
     * descriptors of {@code fds}, which stay the caller's and must stay open until the send completes. Then call
     * {@link #continueSend()}.
     */
    public void beginSend(final MemorySegment message, final int lengthBytes, final int[] fds, final int fdCount) {
        this.sending = message;
        this.sendOffset = 0;
        this.sendRemaining = lengthBytes;
        this.sendFds = fds;
        this.sendFdCount = fdCount;
    }

    /**
     * Sends what the socket takes of the message begun with {@link #beginSend}.
     *
     * @return true once all of it went; false if the socket is full (call again when it is writable)
     * @throws SysException if the socket failed (the message is abandoned)
     */
    public boolean continueSend() {
        while (sendRemaining > 0) {
            final long n;
            try {
                n = UnixSockets.send(socketFd, sendOffset == 0 ? sending : sending.asSlice(sendOffset), sendRemaining,
                        sendFds, sendFdCount, UnixSockets.MSG_DONTWAIT);
            } catch (SysException e) {
                sendRemaining = 0;
                throw e;
            }
            if (n == FileIo.WOULD_BLOCK) {
                return false;
            }
            sendFdCount = 0;
            sendOffset += (int) n;
            sendRemaining -= (int) n;
        }
        return true;
    }

    /** @return true once some bytes of the message begun with {@link #beginSend} went out */
    public boolean sendStarted() {
        return sendOffset > 0;
    }

    /** @return true while a message begun with {@link #beginSend} has bytes left to send */
    public boolean sending() {
        return sendRemaining > 0;
    }
}

package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.ReceivedFds;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.Rejection;
import io.vioplane.vhostuser.protocol.Validator;
import io.vioplane.vhostuser.protocol.VhostUserException;
import io.vioplane.vhostuser.protocol.VhostUserHandler;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.protocol.VhostUserRequest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.RejectedExecutionException;

import static io.vioplane.vhostuser.transport.ConnectionCounters.Kind;

/**
 * One connected vhost-user socket (QEMU {@code docs/interop/vhost-user.rst}, "Communication" and
 * "VHOST_USER_PROTOCOL_F_REPLY_ACK"): frames messages, validates them, hands them to its
 * {@link VhostUserHandler} and sends the replies.
 *
 * <p><b>Framing.</b> The kernel attaches a message's descriptors to its first byte, so the connection never reads
 * past the end of the message it is on: first exactly the 12-byte header (with a control buffer for up to 8
 * descriptors), then exactly {@code size} payload bytes, each with as many {@code recvmsg(MSG_DONTWAIT)} calls as
 * the peer's writes need. Descriptors that arrive while a message is being read belong to it. A header whose
 * version is not 1 or whose size exceeds {@link VhostUserHeader#MAX_PAYLOAD_BYTES}, more than 8 descriptors
 * (MSG_CTRUNC), or end-of-file inside a message closes the connection.
 *
 * <p><b>Dispatch.</b> Each complete message goes through the {@link Validator}, then to
 * {@link VhostUserHandler#handle}. Requests with an explicit reply body ({@link VhostUserRequest#hasExplicitReply})
 * get exactly the body the handler wrote; a handler that wrote none (or wrote one for a request without a body)
 * has a bug: the connection logs it and closes. Other requests with NEED_REPLY get a u64 0 once REPLY_ACK is
 * negotiated. Descriptors the handler did not take are closed after each message.
 *
 * <p><b>Failures.</b> A refused request (validator or {@link VhostUserException}) is reported when the protocol
 * can express it: a non-zero u64 ack (REPLY_ACK and NEED_REPLY), a non-zero status (IOTLB_MSG and the other
 * status replies), an empty GET_CONFIG reply. The connection closes when a validator rejection cannot be reported,
 * when the handler asks for it ({@link VhostUserException#closeConnection()}) or fails unexpectedly, and when the
 * front-end waits for a reply body that cannot express failure (GET_FEATURES, GET_VRING_BASE, ...). Each failure
 * is counted ({@link ConnectionCounters}) and logged, at most {@value #LOGGED_FAILURES} lines per connection.
 *
 * <p><b>Replies</b> carry flags version|REPLY and are written with {@code sendmsg(MSG_DONTWAIT)}; if the socket is
 * full, reading stops until the reply has gone (EPOLLOUT).
 *
 * <p><b>Threads.</b> Everything runs on the connection's event loop; {@link #close()} may be called from any
 * thread. The receive and reply buffers are allocated once per connection: the steady path allocates nothing.
 * On end-of-file, error or {@link #close()} the handler's {@link VhostUserHandler#disconnected()} runs exactly once
 * and the socket is closed.
 */
public final class VhostUserConnection implements AutoCloseable {
    /** The u64 sent to report that a request failed. */
    public static final long FAILURE_STATUS = 1;
    /** Failure lines one connection logs before it only counts. */
    static final int LOGGED_FAILURES = 32;
    private static final int MESSAGES_PER_WAKEUP = 64;
    private static final long RECEIVE_FAILED = -2;

    private final int socketFd;
    private final String description;
    private final VhostUserHandler handler;
    private final IoEventLoop eventLoop;
    private final ConnectionCounters counters;
    private final ErrorLog log;
    private final Runnable onClosed;
    private final SocketHandle socketHandle;

    private final MemorySegment header;
    private final MemorySegment payload;
    private final ReceivedFds fds = new ReceivedFds();
    private final VhostUserMessage message = new VhostUserMessage();
    private final Validator validator = new Validator();
    private final ReplyBuffer reply;

    private IoRegistration registration;
    private int headerBytesRead;
    private int payloadBytes = -1;
    private int payloadBytesRead;
    private int request;
    private int flags;
    private int pendingOffset;
    private int pendingLength;
    private boolean pendingFdSent;
    private boolean waitingForWrite;
    private boolean dispatching;
    private boolean handlerConnected;
    private String closeRequested;
    private volatile boolean open = true;
    private int failuresLogged;

    private VhostUserConnection(final int socketFd, final String description, final VhostUserHandler handler,
                                final IoEventLoop eventLoop, final ConnectionCounters counters,
                                final ErrorLog log, final Runnable onClosed) {
        this.socketFd = socketFd;
        this.description = description;
        this.handler = handler;
        this.eventLoop = eventLoop;
        this.counters = counters;
        this.log = log;
        this.onClosed = onClosed;
        this.socketHandle = new SocketHandle(socketFd);
        final Arena arena = Arena.ofAuto();
        this.header = arena.allocate(VhostUserHeader.HEADER_BYTES, 8);
        this.payload = arena.allocate(VhostUserHeader.MAX_PAYLOAD_BYTES, 8);
        this.reply = new ReplyBuffer(
                arena.allocate(VhostUserHeader.HEADER_BYTES + VhostUserHeader.MAX_PAYLOAD_BYTES, 8));
    }

    /**
     * Takes over a connected, non-blocking socket: registers it on {@code eventLoop}, tells the handler, and starts
     * reading. Call on {@code eventLoop}. If anything fails the socket is closed and {@code onClosed} runs.
     *
     * @param onClosed runs on the event loop once the connection has closed
     */
    static VhostUserConnection open(final int socketFd, final String description, final VhostUserHandler handler,
                                    final IoEventLoop eventLoop, final ConnectionCounters counters,
                                    final ErrorLog log, final Runnable onClosed) {
        final VhostUserConnection connection = new VhostUserConnection(socketFd, description, handler, eventLoop,
                counters, log, onClosed);
        connection.start();
        return connection;
    }

    private void start() {
        try {
            registration = EventLoops.registerInLoop(eventLoop, socketHandle);
            handlerConnected = true;
            handler.connected(this);
            registration.submit(EpollIoOps.EPOLLIN);
        } catch (Throwable t) {
            rethrowIfFatal(t);
            requestClose("could not start: " + t);
        }
        finishClose();
    }

    /** @return what this connection is, for logs: the socket path and a sequence number */
    public String description() {
        return description;
    }

    /** @return true until the connection has closed */
    public boolean isOpen() {
        return open;
    }

    /** @return the event loop that runs this connection (the control-plane thread) */
    public IoEventLoop eventLoop() {
        return eventLoop;
    }

    /** @return this connection's counters (read them on {@link #eventLoop()} or after the connection closed) */
    public ConnectionCounters counters() {
        return counters;
    }

    /**
     * Closes the connection (from any thread; idempotent). Called by the handler inside {@code handle}, the close
     * happens once {@code handle} has returned, and no reply is sent for that request.
     */
    @Override
    public void close() {
        close("closed by the back-end");
    }

    /** As {@link #close()}, with the reason to log. */
    public void close(final String reason) {
        if (eventLoop.inEventLoop()) {
            requestClose(reason);
            if (!dispatching) {
                finishClose();
            }
        } else if (open) {
            try {
                eventLoop.execute(() -> {
                    requestClose(reason);
                    finishClose();
                });
            } catch (RejectedExecutionException shutDown) {
                // the event loop is shutting down and closes every registered connection itself
            }
        }
    }

    @Override
    public String toString() {
        return description;
    }

    private void onEvent(final EpollIoOps ops) {
        if (!open) {
            return;
        }
        try {
            if (pendingLength > 0) {
                flush();
            } else {
                onReadable();
            }
        } catch (Throwable t) {
            rethrowIfFatal(t);
            counters.increment(Kind.FRAMING_ERRORS);
            requestClose("unexpected " + t);
        }
        finishClose();
    }

    private void onReadable() {
        for (int i = 0; i < MESSAGES_PER_WAKEUP && closeRequested == null && pendingLength == 0; i++) {
            if (!receiveMessage()) {
                return;
            }
            dispatch();
        }
    }

    /** @return true when a whole message is in the buffers */
    private boolean receiveMessage() {
        while (payloadBytes < 0) {
            final long n = receive(headerBytesRead == 0 ? header : header.asSlice(headerBytesRead),
                    VhostUserHeader.HEADER_BYTES - headerBytesRead);
            if (n <= 0) {
                return false;
            }
            headerBytesRead += (int) n;
            if (headerBytesRead == VhostUserHeader.HEADER_BYTES && !acceptHeader()) {
                return false;
            }
        }
        while (payloadBytesRead < payloadBytes) {
            final long n = receive(payloadBytesRead == 0 ? payload : payload.asSlice(payloadBytesRead),
                    payloadBytes - payloadBytesRead);
            if (n <= 0) {
                return false;
            }
            payloadBytesRead += (int) n;
        }
        return true;
    }

    private boolean acceptHeader() {
        request = VhostUserHeader.request(header);
        flags = VhostUserHeader.flags(header);
        final long size = VhostUserHeader.size(header);
        if (!VhostUserHeader.hasVersion1(flags)) {
            return framingError(VhostUserRequest.name(request) + " with flags 0x" + Integer.toHexString(flags)
                    + ": protocol version " + (flags & VhostUserHeader.VERSION_MASK) + ", not 1");
        }
        if (size > VhostUserHeader.MAX_PAYLOAD_BYTES) {
            return framingError(VhostUserRequest.name(request) + " announces a payload of " + size
                    + " bytes; at most " + VhostUserHeader.MAX_PAYLOAD_BYTES);
        }
        payloadBytes = (int) size;
        payloadBytesRead = 0;
        return true;
    }

    /** @return bytes read, 0 on would-block, {@link #RECEIVE_FAILED} after end-of-file or an error (close requested) */
    private long receive(final MemorySegment into, final int lengthBytes) {
        final long n;
        try {
            n = UnixSockets.receive(socketFd, into, lengthBytes, fds, UnixSockets.MSG_DONTWAIT);
        } catch (SysException e) {
            framingError("receive failed: " + e.getMessage());
            return RECEIVE_FAILED;
        }
        if (n == FileIo.WOULD_BLOCK) {
            return 0;
        }
        if (n == 0) {
            endOfFile();
            return RECEIVE_FAILED;
        }
        return n;
    }

    private void endOfFile() {
        if (payloadBytes < 0 && headerBytesRead == 0 && fds.count() == 0) {
            requestClose("the front-end closed the connection");
        } else if (payloadBytes < 0) {
            framingError("end of file after " + headerBytesRead + " of " + VhostUserHeader.HEADER_BYTES
                    + " header bytes");
        } else {
            framingError("end of file after " + payloadBytesRead + " of " + payloadBytes + " payload bytes of "
                    + VhostUserRequest.name(request));
        }
    }

    private boolean framingError(final String why) {
        counters.increment(Kind.FRAMING_ERRORS);
        requestClose(why);
        return false;
    }

    private void dispatch() {
        final int size = payloadBytes;
        headerBytesRead = 0;
        payloadBytes = -1;
        payloadBytesRead = 0;
        message.wrap(request, flags, size, payload, fds);
        reply.begin(request);
        counters.increment(Kind.MESSAGES);
        try {
            final Rejection rejection = validator.validate(message);
            if (rejection != null) {
                counters.increment(Kind.of(rejection));
                refuse("refused " + message + ": " + validator.reason(), false, false);
            } else {
                handleValid();
            }
        } finally {
            fds.closeAll();
        }
    }

    private void handleValid() {
        final int requestId = message.request();
        dispatching = true;
        try {
            handler.handle(message, reply);
        } catch (VhostUserException e) {
            counters.increment(Kind.REFUSED);
            reply.discard();
            refuse("the handler refused " + message + ": " + e.getMessage(), true, e.closeConnection());
            return;
        } catch (Throwable t) {
            rethrowIfFatal(t);
            counters.increment(Kind.HANDLER_ERRORS);
            reply.discard();
            refuse("the handler failed on " + message + ": " + t
                    + (t.getStackTrace().length > 0 ? " at " + t.getStackTrace()[0] : ""), true, true);
            return;
        } finally {
            dispatching = false;
        }
        if (closeRequested != null) {
            return;
        }
        if (VhostUserRequest.hasExplicitReply(requestId)) {
            if (!reply.written()) {
                handlerBug("the handler wrote no reply to " + message + ", which needs one");
                return;
            }
            send();
        } else if (reply.written()) {
            handlerBug("the handler wrote a reply body to " + message + ", which has none");
        } else if (message.needsReply() && handler.replyAckNegotiated()) {
            reply.status(0);
            send();
        }
    }

    private void handlerBug(final String why) {
        counters.increment(Kind.HANDLER_ERRORS);
        reply.discard();
        logFailure(why + " (a handler bug)");
        requestClose(why);
    }

    /**
     * Reports a refused request if the protocol can, else closes.
     *
     * @param byHandler true if the handler refused (a request the front-end does not wait on stays open), false for
     *                  the validator (what cannot be reported closes)
     * @param close     close even after reporting
     */
    private void refuse(final String why, final boolean byHandler, final boolean close) {
        logFailure(why);
        final int requestId = message.request();
        final boolean explicit = VhostUserRequest.hasExplicitReply(requestId);
        boolean reported = false;
        if (requestId == VhostUserRequest.GET_CONFIG) {
            reply.discard();
            reply.empty();
            reported = true;
        } else if (VhostUserRequest.hasStatusReply(requestId)
                || (!explicit && message.needsReply() && replyAckNegotiated())) {
            reply.status(FAILURE_STATUS);
            reported = true;
        }
        if (reported) {
            counters.increment(Kind.FAILURE_REPLIES);
            send();
        }
        final boolean frontEndWaits = explicit && !reported;
        if (close || frontEndWaits || (!byHandler && !reported)) {
            requestClose(why);
        }
    }

    private boolean replyAckNegotiated() {
        try {
            return handler.replyAckNegotiated();
        } catch (Throwable t) {
            rethrowIfFatal(t);
            counters.increment(Kind.HANDLER_ERRORS);
            requestClose("the handler failed in replyAckNegotiated: " + t);
            return false;
        }
    }

    private void send() {
        pendingLength = reply.seal();
        pendingOffset = 0;
        pendingFdSent = false;
        counters.increment(Kind.REPLIES);
        flush();
    }

    private void flush() {
        while (pendingLength > 0) {
            final MemorySegment data = pendingOffset == 0 ? reply.segment() : reply.segment().asSlice(pendingOffset);
            final long n;
            try {
                n = UnixSockets.send(socketFd, data, pendingLength, reply.fds(), pendingFdSent ? 0 : reply.fdCount(),
                        UnixSockets.MSG_DONTWAIT);
            } catch (SysException e) {
                pendingLength = 0;
                counters.increment(Kind.FRAMING_ERRORS);
                requestClose("cannot send the reply to " + VhostUserRequest.name(request) + ": " + e.getMessage());
                return;
            }
            if (n == FileIo.WOULD_BLOCK) {
                if (!waitingForWrite) {
                    waitingForWrite = true;
                    registration.submit(EpollIoOps.EPOLLOUT);
                }
                return;
            }
            pendingFdSent = true;
            pendingOffset += (int) n;
            pendingLength -= (int) n;
        }
        if (waitingForWrite) {
            waitingForWrite = false;
            registration.submit(EpollIoOps.EPOLLIN);
        }
    }

    private void logFailure(final String why) {
        if (failuresLogged < LOGGED_FAILURES) {
            log.failure(description + ": " + why);
        } else if (failuresLogged == LOGGED_FAILURES) {
            log.info(description + ": more than " + LOGGED_FAILURES + " failures; further ones are only counted");
        }
        failuresLogged++;
    }

    private void requestClose(final String reason) {
        if (closeRequested == null) {
            closeRequested = reason;
        }
    }

    private void finishClose() {
        if (closeRequested == null || !open) {
            return;
        }
        open = false;
        log.info(description + ": closed: " + closeRequested + " " + counters);
        try {
            if (registration != null) {
                registration.cancel();
            }
        } catch (Throwable t) {
            rethrowIfFatal(t);
        }
        FileIo.closeQuietly(socketFd);
        fds.closeAll();
        try {
            if (handlerConnected) {
                handler.disconnected();
            }
        } catch (Throwable t) {
            rethrowIfFatal(t);
            log.failure(description + ": the handler failed in disconnected(): " + t);
        }
        counters.close();
        try {
            onClosed.run();
        } catch (Throwable t) {
            rethrowIfFatal(t);
            log.failure(description + ": on-close action failed: " + t);
        }
    }

    private static void rethrowIfFatal(final Throwable t) {
        if (t instanceof VirtualMachineError fatal) {
            throw fatal;
        }
    }

    /** The socket as Netty's epoll handler sees it. */
    private final class SocketHandle implements EpollIoHandle {
        private final FileDescriptor fd;

        SocketHandle(final int socketFd) {
            this.fd = new FileDescriptor(socketFd);
        }

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(final IoRegistration ioRegistration, final IoEvent event) {
            onEvent(((EpollIoEvent) event).ops());
        }

        @Override
        public void close() {
            requestClose("the event loop shut down");
            finishClose();
        }
    }
}

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
import io.vioplane.vhostuser.protocol.FailureReport;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.Rejection;
import io.vioplane.vhostuser.protocol.Validator;
import io.vioplane.vhostuser.protocol.VhostUserException;
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
    public static final long FAILURE_STATUS = FailureReport.FAILURE_STATUS;
    /** Failure lines one connection logs before it only counts. */
    static final int LOGGED_FAILURES = 32;
    private static final int MESSAGES_PER_WAKEUP = 64;

    private final int socketFd;
    private final String description;
    private final VhostUserHandler handler;
    private final IoEventLoop eventLoop;
    private final ConnectionCounters counters;
    private final ErrorLog log;
    private final Runnable onClosed;
    private final SocketHandle socketHandle;

    private final MessageFramer framer;
    private final VhostUserMessage message = new VhostUserMessage();
    private final Validator validator = new Validator();
    private final ReplyBuffer reply;

    private IoRegistration registration;
    private boolean waitingForWrite;
    private boolean dispatching;
    private boolean handlerConnected;
    private String closeRequested;
    private volatile boolean open = true;
    private int failuresLogged;
    private boolean replyAck;

    private VhostUserConnection(final int socketFd, final String description, final VhostUserHandler handler,
                                final IoEventLoop eventLoop, final ConnectionCounters counters,
                                final ErrorLog log, final boolean replyAckFromStart, final Runnable onClosed) {
        this.socketFd = socketFd;
        this.replyAck = replyAckFromStart;
        this.description = description;
        this.handler = handler;
        this.eventLoop = eventLoop;
        this.counters = counters;
        this.log = log;
        this.onClosed = onClosed;
        this.socketHandle = new SocketHandle(socketFd);
        final Arena arena = Arena.ofAuto();
        this.framer = new MessageFramer(socketFd, arena);
        this.reply = new ReplyBuffer(
                arena.allocate(VhostUserHeader.HEADER_BYTES + VhostUserHeader.MAX_PAYLOAD_BYTES, 8));
    }

    /**
     * Takes over a connected, non-blocking socket: registers it on {@code eventLoop}, tells the handler, and starts
     * reading. Call on {@code eventLoop}. If anything fails the socket is closed and {@code onClosed} runs.
     *
     * @param replyAckFromStart as if SET_PROTOCOL_FEATURES with REPLY_ACK had come (transport tests)
     * @param onClosed          runs on the event loop once the connection has closed
     */
    static VhostUserConnection open(final int socketFd, final String description, final VhostUserHandler handler,
                                    final IoEventLoop eventLoop, final ConnectionCounters counters,
                                    final ErrorLog log, final boolean replyAckFromStart, final Runnable onClosed) {
        final VhostUserConnection connection = new VhostUserConnection(socketFd, description, handler, eventLoop,
                counters, log, replyAckFromStart, onClosed);
        connection.start();
        return connection;
    }

    private void start() {
        try {
            registration = EventLoops.registerInLoop(eventLoop, socketHandle);
            handlerConnected = true;
            handler.connected();
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
            if (framer.sending()) {
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
        for (int i = 0; i < MESSAGES_PER_WAKEUP && closeRequested == null && !framer.sending(); i++) {
            if (!receiveMessage()) {
                return;
            }
            dispatch();
        }
    }

    /** @return true when a whole message is in the framer's buffers */
    private boolean receiveMessage() {
        return switch (framer.receive()) {
            case MessageFramer.MESSAGE -> true;
            case MessageFramer.CLOSED -> {
                requestClose("the front-end closed the connection");
                yield false;
            }
            case MessageFramer.BROKEN -> framingError(framer.failure());
            default -> false;
        };
    }

    private boolean framingError(final String why) {
        counters.increment(Kind.FRAMING_ERRORS);
        requestClose(why);
        return false;
    }

    private void dispatch() {
        final ReceivedFds fds = framer.fds();
        message.wrap(framer.request(), framer.flags(), framer.payloadBytes(), framer.payload(), fds);
        reply.begin(framer.request());
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
        if (requestId == VhostUserRequest.SET_PROTOCOL_FEATURES) {
            replyAck = ProtocolFeature.has(message.u64(), ProtocolFeature.REPLY_ACK);
        }
        if (VhostUserRequest.hasExplicitReply(requestId)) {
            if (!reply.written()) {
                handlerBug("the handler wrote no reply to " + message + ", which needs one");
                return;
            }
            send();
        } else if (reply.written()) {
            handlerBug("the handler wrote a reply body to " + message + ", which has none");
        } else if (message.needsReply() && replyAck) {
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
        final FailureReport report = FailureReport.of(requestId, message.needsReply(), replyAck);
        switch (report) {
            case EMPTY_BODY -> {
                reply.discard();
                reply.empty();
            }
            case STATUS -> reply.status(FAILURE_STATUS);
            case NONE -> { }
        }
        if (report.reported()) {
            counters.increment(Kind.FAILURE_REPLIES);
            send();
        }
        if (report.closes(requestId, byHandler, close)) {
            requestClose(why);
        }
    }

    private void send() {
        framer.beginSend(reply.segment(), reply.seal(), reply.fds(), reply.fdCount());
        counters.increment(Kind.REPLIES);
        flush();
    }

    private void flush() {
        final boolean sent;
        try {
            sent = framer.continueSend();
        } catch (SysException e) {
            counters.increment(Kind.FRAMING_ERRORS);
            requestClose("cannot send the reply to " + VhostUserRequest.name(framer.request()) + ": " + e.getMessage());
            return;
        }
        if (!sent) {
            if (!waitingForWrite) {
                waitingForWrite = true;
                registration.submit(EpollIoOps.EPOLLOUT);
            }
            return;
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
        framer.fds().closeAll();
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

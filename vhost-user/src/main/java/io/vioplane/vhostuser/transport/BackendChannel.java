package io.vioplane.vhostuser.transport;

import io.vioplane.platform.sys.Epoll;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.vhostuser.protocol.VhostUserException;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.protocol.VhostUserRequest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The back-end's request channel to the front-end (QEMU {@code docs/interop/vhost-user.rst}, "Back-end
 * communication" and "Back-end message types"): the socket the front-end handed over with SET_BACKEND_REQ_FD, on
 * which the back-end sends requests such as {@link VhostUserRequest#BACKEND_CONFIG_CHANGE_MSG} and, with
 * NEED_REPLY (REPLY_ACK negotiated), reads the front-end's u64 acknowledgement.
 *
 * <p>Blocking, with a timeout: meant for a handler or a data-plane thread that must wait for the front-end (an
 * IOTLB miss, a config change), except {@link #tryIotlbMiss}, which never waits for the channel. Thread-safe: one
 * request at a time. Owns the socket.
 */
public final class BackendChannel implements AutoCloseable {
    private final int socketFd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer =
            arena.allocate(VhostUserHeader.HEADER_BYTES + VhostUserHeader.MAX_PAYLOAD_BYTES, 8);
    private final MessageFramer framer;
    private final int[] fds = new int[1];
    private final Epoll epoll = new Epoll(1);
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean closed;
    private static final int IOTLB_MISS = 1;

    /** Takes ownership of {@code socketFd} (made non-blocking). */
    public BackendChannel(final int socketFd) {
        this.socketFd = socketFd;
        this.framer = new MessageFramer(socketFd, arena);
        FileIo.setNonBlocking(socketFd, true);
        epoll.add(socketFd, Epoll.EPOLLIN, 0);
    }

    /**
     * Sends back-end request {@code request} without NEED_REPLY.
     *
     * @param payload the body (may be empty)
     * @param fd      a descriptor to attach (BACKEND_SEND_FD), or -1; the caller keeps ownership
     */
    public void send(final int request, final MemorySegment payload, final int fd, final long timeoutMs) {
        lock.lock();
        try {
            write(request, VhostUserHeader.VERSION, payload, fd, deadline(timeoutMs));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends back-end request {@code request} with NEED_REPLY and waits for the front-end's u64 acknowledgement.
     *
     * @return the acknowledgement: 0 success, non-zero failure
     * @throws VhostUserException (closing) if no well-formed reply came within {@code timeoutMs} or the socket failed
     */
    public long sendAwaitingAck(final int request, final MemorySegment payload, final int fd,
                                final long timeoutMs) {
        lock.lock();
        try {
            final long deadlineNs = deadline(timeoutMs);
            write(request, VhostUserHeader.VERSION | VhostUserHeader.FLAG_NEED_REPLY, payload, fd, deadlineNs);
            receiveReply(deadlineNs, request);
            final int replyRequest = framer.request();
            final int replyFlags = framer.flags();
            final long size = framer.payloadBytes();
            if (replyRequest != request || (replyFlags & VhostUserHeader.FLAG_REPLY) == 0
                    || size != VhostUserMessage.U64_BYTES) {
                throw failure("the front-end answered " + VhostUserRequest.backendName(request) + " with request "
                        + replyRequest + ", flags 0x" + Integer.toHexString(replyFlags) + ", size " + size
                        + " (expected the same request, REPLY, 8 bytes)");
            }
            return framer.payload().get(JAVA_LONG_UNALIGNED, 0);
        } finally {
            lock.unlock();
        }
    }

    /** Tells the front-end the configuration space changed (BACKEND_CONFIG_CHANGE_MSG, no payload). */
    public void configChanged(final boolean needReply, final long timeoutMs) {
        if (needReply) {
            final long ack = sendAwaitingAck(VhostUserRequest.BACKEND_CONFIG_CHANGE_MSG, MemorySegment.NULL, -1,
                    timeoutMs);
            if (ack != 0) {
                throw new VhostUserException("the front-end refused BACKEND_CONFIG_CHANGE_MSG: " + ack, false);
            }
        } else {
            send(VhostUserRequest.BACKEND_CONFIG_CHANGE_MSG, MemorySegment.NULL, -1, timeoutMs);
        }
    }

    /** Reports an IOTLB miss for {@code iova} wanting {@code permissions} (BACKEND_IOTLB_MSG, type MISS). */
    public void iotlbMiss(final long iova, final int permissions, final long timeoutMs) {
        lock.lock();
        try {
            final MemorySegment body = buffer.asSlice(VhostUserHeader.HEADER_BYTES, VhostUserMessage.IOTLB_BYTES);
            body.fill((byte) 0);
            body.set(JAVA_LONG_UNALIGNED, 0, iova);
            body.set(JAVA_BYTE, 24, (byte) permissions);
            body.set(JAVA_BYTE, 25, (byte) 1);
            writeBody(VhostUserRequest.BACKEND_IOTLB_MSG, VhostUserHeader.VERSION, VhostUserMessage.IOTLB_BYTES, -1,
                    deadline(timeoutMs));
        } finally {
            lock.unlock();
        }
    }


    /**
     * Reports an IOTLB miss without blocking, for the data plane (QEMU docs/interop/vhost-user.rst, "IOMMU
     * support"): BACKEND_IOTLB_MSG of type MISS, without NEED_REPLY (the answer is an UPDATE on the front-end's
     * channel). Gives up at once, sending nothing, if another request holds the channel or the socket is full; a
     * message the socket took in part is completed within {@code timeoutMs}.
     *
     * @return true if the request went out; false if nothing was sent (ask again later)
     */
    public boolean tryIotlbMiss(final long iova, final int permissions, final long timeoutMs) {
        if (!lock.tryLock()) {
            return false;
        }
        try {
            if (closed) {
                return false;
            }
            final MemorySegment body = buffer.asSlice(VhostUserHeader.HEADER_BYTES, VhostUserMessage.IOTLB_BYTES);
            body.fill((byte) 0);
            body.set(JAVA_LONG_UNALIGNED, 0, iova);
            body.set(JAVA_BYTE, 24, (byte) permissions);
            body.set(JAVA_BYTE, 25, (byte) IOTLB_MISS);
            VhostUserHeader.write(buffer, VhostUserRequest.BACKEND_IOTLB_MSG, VhostUserHeader.VERSION,
                    VhostUserMessage.IOTLB_BYTES);
            fds[0] = -1;
            framer.beginSend(buffer, VhostUserHeader.HEADER_BYTES + VhostUserMessage.IOTLB_BYTES, fds, 0);
            if (framer.continueSend()) {
                return true;
            }
            if (!framer.sendStarted()) {
                framer.beginSend(buffer, 0, fds, 0);
                return false;
            }
            final long deadlineNs = deadline(timeoutMs);
            while (!framer.continueSend()) {
                await(Epoll.EPOLLOUT, deadlineNs, VhostUserRequest.BACKEND_IOTLB_MSG);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** In-band notification that vring {@code index} has used buffers (BACKEND_VRING_CALL). */
    public void vringCall(final int index, final long timeoutMs) {
        lock.lock();
        try {
            final MemorySegment body = buffer.asSlice(VhostUserHeader.HEADER_BYTES, VhostUserMessage.VRING_STATE_BYTES);
            body.set(JAVA_INT_UNALIGNED, 0, index);
            body.set(JAVA_INT_UNALIGNED, 4, 0);
            writeBody(VhostUserRequest.BACKEND_VRING_CALL, VhostUserHeader.VERSION, VhostUserMessage.VRING_STATE_BYTES,
                    -1, deadline(timeoutMs));
        } finally {
            lock.unlock();
        }
    }


    /** Closes the socket. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                epoll.close();
                FileIo.closeQuietly(socketFd);
                arena.close();
            }
        } finally {
            lock.unlock();
        }
    }


    private void write(final int request, final int flags, final MemorySegment payload, final int fd,
                       final long deadlineNs) {
        final long size = payload.byteSize();
        if (size > VhostUserHeader.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("payload of " + size + " bytes; at most "
                    + VhostUserHeader.MAX_PAYLOAD_BYTES);
        }
        checkOpen();
        MemorySegment.copy(payload, 0, buffer, VhostUserHeader.HEADER_BYTES, size);
        writeBody(request, flags, (int) size, fd, deadlineNs);
    }

    private void writeBody(final int request, final int flags, final int size, final int fd, final long deadlineNs) {
        checkOpen();
        VhostUserHeader.write(buffer, request, flags, size);
        fds[0] = fd;
        framer.beginSend(buffer, VhostUserHeader.HEADER_BYTES + size, fds, fd < 0 ? 0 : 1);
        while (!framer.continueSend()) {
            await(Epoll.EPOLLOUT, deadlineNs, request);
        }
    }

    private void receiveReply(final long deadlineNs, final int request) {
        while (true) {
            final int result = framer.receive();
            framer.fds().closeAll();
            switch (result) {
                case MessageFramer.MESSAGE -> {
                    return;
                }
                case MessageFramer.WOULD_BLOCK -> await(Epoll.EPOLLIN, deadlineNs, request);
                case MessageFramer.CLOSED -> throw failure("the front-end closed the back-end channel before "
                        + "acknowledging " + VhostUserRequest.backendName(request));
                default -> throw failure("the front-end's answer to " + VhostUserRequest.backendName(request)
                        + " is broken: " + framer.failure());
            }
        }
    }

    private void await(final int interest, final long deadlineNs, final int request) {
        final long remainingNs = deadlineNs - System.nanoTime();
        if (remainingNs <= 0) {
            throw failure("the front-end did not " + (interest == Epoll.EPOLLIN ? "acknowledge " : "accept ")
                    + VhostUserRequest.backendName(request) + " in time");
        }
        epoll.modify(socketFd, interest, 0);
        epoll.await((int) Math.max(1, Math.min(Integer.MAX_VALUE, remainingNs / 1_000_000)));
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the back-end channel is closed");
        }
    }

    private static long deadline(final long timeoutMs) {
        if (timeoutMs < 0) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeoutMs);
        }
        return System.nanoTime() + timeoutMs * 1_000_000;
    }

    private static VhostUserException failure(final String why) {
        return new VhostUserException(why, true);
    }
}

package io.vioplane.vhostuser.frontend;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.GuestMemoryRegion;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.OwnedFd;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.transport.MessageFramer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A vhost-user front-end (the side QEMU or DPDK's virtio-user play; QEMU docs/interop/vhost-user.rst): connects
 * to a back-end's socket, sends requests with their descriptors and waits for replies. Blocking and
 * single-threaded: a control-plane tool for tests, benchmarks and in-process front-ends, not a data path.
 *
 * <p>With REPLY_ACK negotiated, {@link #request} asks for an acknowledgement of requests that have no reply of
 * their own and throws {@link FrontEndException} when the back-end refuses.
 */
public final class VhostUserFrontEnd implements AutoCloseable {
    /** The back-end refused a request (non-zero ack) or broke the protocol. */
    public static final class FrontEndException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /** @param message what happened */
        public FrontEndException(final String message) {
            super(message);
        }
    }

    private static final long REPLY_TIMEOUT_MS = 10_000;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(VhostUserHeader.HEADER_BYTES + VhostUserHeader.MAX_PAYLOAD_BYTES, 8);
    private final MessageFramer framer;
    private boolean replyAck;

    private VhostUserFrontEnd(final int fd) {
        this.fd = fd;
        this.framer = new MessageFramer(fd, arena);
    }

    /** Connects to the back-end listening on {@code path}, retrying until {@code timeoutMs} passes. */
    public static VhostUserFrontEnd connect(final Path path, final long timeoutMs) {
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            try (OwnedFd socket = OwnedFd.adopt(UnixSockets.socket(false))) {
                UnixSockets.connect(socket.fd(), path.toString());
                return new VhostUserFrontEnd(socket.release());
            } catch (SysException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** @return a u64 payload */
    public static byte[] u64(final long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(value).array();
    }

    /** @return a vring state payload {u32 index, u32 num} */
    public static byte[] vringState(final int index, final int num) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(index).putInt(num).array();
    }

    /**
     * Sends a request and returns its reply payload (or null for requests without one).
     *
     * @param fds descriptors to attach (they stay ours; the kernel duplicates them)
     */
    public byte[] request(final int request, final byte[] payload, final int... fds) {
        final boolean explicitReply = VhostUserRequest.hasExplicitReply(request);
        final boolean wantAck = replyAck && !explicitReply;
        final int flags = VhostUserHeader.VERSION | (wantAck ? VhostUserHeader.FLAG_NEED_REPLY : 0);
        VhostUserHeader.write(buffer, request, flags, payload.length);
        MemorySegment.copy(payload, 0, buffer, JAVA_BYTE, VhostUserHeader.HEADER_BYTES, payload.length);
        final long deadline = System.nanoTime() + REPLY_TIMEOUT_MS * 1_000_000;
        framer.beginSend(buffer, VhostUserHeader.HEADER_BYTES + payload.length, fds, fds.length);
        while (!framer.continueSend()) {
            awaitPeer(deadline, "to take " + VhostUserRequest.name(request));
        }
        if (!explicitReply && !wantAck) {
            return null;
        }
        final byte[] reply = readReply(request);
        if (wantAck) {
            final long ack = ByteBuffer.wrap(reply).order(ByteOrder.nativeOrder()).getLong();
            if (ack != 0) {
                throw new FrontEndException("back-end refused " + VhostUserRequest.name(request) + " (ack " + ack + ")");
            }
            return null;
        }
        return reply;
    }

    private byte[] readReply(final int request) {
        final long deadline = System.nanoTime() + REPLY_TIMEOUT_MS * 1_000_000;
        int result;
        while ((result = framer.receive()) == MessageFramer.WOULD_BLOCK) {
            awaitPeer(deadline, "to reply to " + VhostUserRequest.name(request));
        }
        framer.fds().closeAll();
        if (result == MessageFramer.CLOSED) {
            throw new FrontEndException("the back-end closed the connection");
        }
        if (result == MessageFramer.BROKEN) {
            throw new FrontEndException("bad reply to " + VhostUserRequest.name(request) + ": " + framer.failure());
        }
        final int replyRequest = framer.request();
        final int replyFlags = framer.flags();
        if (replyRequest != request || (replyFlags & VhostUserHeader.FLAG_REPLY) == 0) {
            throw new FrontEndException("bad reply to " + VhostUserRequest.name(request) + ": request " + replyRequest
                    + ", flags 0x" + Integer.toHexString(replyFlags) + ", size " + framer.payloadBytes());
        }
        return framer.payload().asSlice(0, framer.payloadBytes()).toArray(JAVA_BYTE);
    }

    private static void awaitPeer(final long deadline, final String what) {
        if (System.nanoTime() > deadline) {
            throw new FrontEndException("the back-end did not " + what + " within " + REPLY_TIMEOUT_MS + " ms");
        }
        Thread.onSpinWait();
    }

    /** Negotiates: offered features masked by {@code wanted}, REPLY_ACK and {@code wantedProtocol}; SET_OWNER. */
    public long negotiate(final long wanted, final long wantedProtocol) {
        request(VhostUserRequest.SET_OWNER, new byte[0]);
        final long offered = ByteBuffer.wrap(request(VhostUserRequest.GET_FEATURES, new byte[0]))
                .order(ByteOrder.nativeOrder()).getLong();
        final long protocolOffered = ByteBuffer.wrap(request(VhostUserRequest.GET_PROTOCOL_FEATURES, new byte[0]))
                .order(ByteOrder.nativeOrder()).getLong();
        final long protocol = protocolOffered & (wantedProtocol | (1L << ProtocolFeature.REPLY_ACK));
        request(VhostUserRequest.SET_PROTOCOL_FEATURES, u64(protocol));
        replyAck = (protocol & (1L << ProtocolFeature.REPLY_ACK)) != 0;
        final long features = offered & (wanted | (1L << ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES));
        request(VhostUserRequest.SET_FEATURES, u64(features));
        return features;
    }

    /**
     * Shares {@code memory} (SET_MEM_TABLE): each region's user address is its gpa plus {@code userAddressOffset}.
     */
    public void setMemoryTable(final GuestMemory memory, final long userAddressOffset) {
        final List<GuestMemoryRegion> regions = memory.regions();
        final ByteBuffer payload = ByteBuffer.allocate(8 + 32 * regions.size()).order(ByteOrder.nativeOrder());
        payload.putInt(regions.size()).putInt(0);
        final int[] fds = new int[regions.size()];
        for (int i = 0; i < regions.size(); i++) {
            final GuestMemoryRegion region = regions.get(i);
            payload.putLong(region.gpa()).putLong(region.sizeBytes()).putLong(region.gpa() + userAddressOffset)
                    .putLong(region.fdOffsetBytes());
            fds[i] = region.fd();
        }
        request(VhostUserRequest.SET_MEM_TABLE, payload.array(), fds);
    }

    /** Sets a vring's size, base, addresses (front-end user addresses), kick and call; the ring then starts. */
    public void setUpVring(final int index, final int size, final int base, final long descUserAddr,
                           final long usedUserAddr, final long availUserAddr, final EventFd call, final EventFd kick) {
        request(VhostUserRequest.SET_VRING_NUM, vringState(index, size));
        request(VhostUserRequest.SET_VRING_BASE, vringState(index, base));
        final ByteBuffer address = ByteBuffer.allocate(40).order(ByteOrder.nativeOrder());
        address.putInt(index).putInt(0).putLong(descUserAddr).putLong(usedUserAddr).putLong(availUserAddr).putLong(0);
        request(VhostUserRequest.SET_VRING_ADDR, address.array());
        request(VhostUserRequest.SET_VRING_CALL, u64(index), call.fd());
        request(VhostUserRequest.SET_VRING_KICK, u64(index), kick.fd());
    }

    /** Enables or disables a vring. */
    public void setVringEnable(final int index, final boolean enable) {
        request(VhostUserRequest.SET_VRING_ENABLE, vringState(index, enable ? 1 : 0));
    }

    /** Stops a vring and returns its base (GET_VRING_BASE). */
    public int getVringBase(final int index) {
        return ByteBuffer.wrap(request(VhostUserRequest.GET_VRING_BASE, vringState(index, 0))).order(ByteOrder.nativeOrder())
                .getInt(4);
    }

    /** @return the device status the back-end reports (GET_STATUS) */
    public long getStatus() {
        return ByteBuffer.wrap(request(VhostUserRequest.GET_STATUS, new byte[0])).order(ByteOrder.nativeOrder()).getLong();
    }

    /** @return true if REPLY_ACK was negotiated */
    public boolean replyAck() {
        return replyAck;
    }

    /** Closes the connection (the back-end then releases everything of this session). */
    @Override
    public void close() {
        FileIo.closeQuietly(fd);
        framer.fds().closeAll();
        arena.close();
    }
}

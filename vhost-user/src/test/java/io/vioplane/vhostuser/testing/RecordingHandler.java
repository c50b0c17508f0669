package io.vioplane.vhostuser.testing;

import io.vioplane.platform.testing.Await;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.ReplyWriter;
import io.vioplane.vhostuser.protocol.VhostUserException;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.transport.VhostUserConnection;
import io.vioplane.vhostuser.transport.VhostUserHandler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;

/**
 * A fake device-agnostic handler for transport tests: records every request it is given (with its payload bytes
 * and what its descriptors were), answers the negotiation plausibly (features, protocol features, status, vring
 * bases, config), and can be told to refuse requests or to forget a reply.
 *
 * <p>Descriptors: kick/call/err eventfds and memory-table memfds are taken and identified (an eventfd's counter
 * value, a memfd's size) so tests can check that each arrived with its own message; then closed. Other
 * descriptors are left to the connection (which must close them), unless {@link #takeAllFds} is set.
 */
public final class RecordingHandler implements VhostUserHandler {
    /** The virtio features offered: VERSION_1, INDIRECT_DESC, PROTOCOL_FEATURES, MRG_RXBUF. */
    public static final long OFFERED_FEATURES = 0x1_5000_8000L;
    /** The protocol features offered: MQ, REPLY_ACK, STATUS. */
    public static final long OFFERED_PROTOCOL_FEATURES = ProtocolFeature.bit(ProtocolFeature.MQ)
            | ProtocolFeature.bit(ProtocolFeature.REPLY_ACK) | ProtocolFeature.bit(ProtocolFeature.STATUS);

    /** One request as the handler saw it. */
    public record Received(int request, int flags, byte[] payload, int fdCount, List<Long> fdIdentities) {
        /** @return the first 8 payload bytes as a native-endian u64 */
        public long u64() {
            return java.nio.ByteBuffer.wrap(payload).order(java.nio.ByteOrder.nativeOrder()).getLong();
        }

        @Override
        public String toString() {
            return name(request) + "(flags=0x" + Integer.toHexString(flags) + ", " + HexFormat.of().formatHex(payload)
                    + (fdCount > 0 ? ", fds=" + fdIdentities : "") + ")";
        }
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger connects = new AtomicInteger();
    private final AtomicInteger disconnects = new AtomicInteger();
    private final Set<Integer> forgetReplyTo = ConcurrentHashMap.newKeySet();
    private volatile Predicate<VhostUserMessage> refuse = message -> false;
    private volatile boolean closeOnRefusal;
    private volatile boolean takeAllFds;
    private volatile int crashOn = -1;
    private volatile int closeOn = -1;
    private volatile long features = OFFERED_FEATURES;
    private volatile long protocolFeatures = OFFERED_PROTOCOL_FEATURES;
    private volatile long negotiatedProtocolFeatures;
    private volatile long status;
    private final int[] vringBases = new int[256];
    private final byte[] config = new byte[64];
    private volatile Supplier<VhostUserConnection> connection;
    private final List<Integer> keptFds = new ArrayList<>();

    public RecordingHandler() {
        for (int i = 0; i < config.length; i++) {
            config[i] = (byte) (0xC0 + i);
        }
    }

    /** Refuses requests matching {@code predicate} with a {@link VhostUserException}. */
    public RecordingHandler refusing(final Predicate<VhostUserMessage> predicate, final boolean closeConnection) {
        this.refuse = predicate;
        this.closeOnRefusal = closeConnection;
        return this;
    }

    /** Writes no reply body to {@code request} (a handler bug the connection must catch). */
    public RecordingHandler forgettingReplyTo(final int request) {
        forgetReplyTo.add(request);
        return this;
    }

    /** Throws an unexpected exception (not a {@link VhostUserException}) on {@code request}: a crashing handler. */
    public RecordingHandler crashingOn(final int request) {
        this.crashOn = request;
        return this;
    }

    /** Closes its own connection (which {@code connection} finds) from inside {@code handle} on {@code request}. */
    public RecordingHandler closingOn(final int request, final Supplier<VhostUserConnection> connection) {
        this.closeOn = request;
        this.connection = connection;
        return this;
    }

    /** Takes (and keeps until disconnect) every descriptor, so none is left for the connection to close. */
    public RecordingHandler takingAllFds() {
        this.takeAllFds = true;
        return this;
    }

    @Override
    public void connected() {
        connects.incrementAndGet();
    }

    @Override
    public void handle(final VhostUserMessage request, final ReplyWriter reply) {
        final byte[] payload = request.payload().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        final List<Long> identities = new ArrayList<>();
        final int fdCount = request.fdCount();
        if (request.request() == crashOn) {
            received.add(new Received(request.request(), request.flags(), payload, fdCount, identities));
            throw new IllegalStateException("the handler crashed on purpose");
        }
        if (refuse.test(request)) {
            received.add(new Received(request.request(), request.flags(), payload, fdCount, identities));
            throw new VhostUserException("refused " + name(request.request()) + " on purpose", closeOnRefusal);
        }
        switch (request.request()) {
            case SET_VRING_CALL, SET_VRING_KICK, SET_VRING_ERR -> {
                if (!request.fdIndexNoFd()) {
                    final int fd = request.takeFd(0);
                    identities.add(EventFd.drain(fd));
                    FileIo.closeQuietly(fd);
                }
            }
            case SET_MEM_TABLE -> {
                for (int i = 0; i < fdCount; i++) {
                    final int fd = request.takeFd(i);
                    identities.add(FileIo.sizeOf(fd));
                    FileIo.closeQuietly(fd);
                }
            }
            default -> {
                if (takeAllFds) {
                    for (int i = 0; i < fdCount; i++) {
                        synchronized (keptFds) {
                            keptFds.add(request.takeFd(i));
                        }
                    }
                }
            }
        }
        received.add(new Received(request.request(), request.flags(), payload, fdCount, identities));
        if (request.request() == closeOn) {
            connection.get().close("the handler closed it on purpose");
            return;
        }
        if (forgetReplyTo.contains(request.request())) {
            return;
        }
        switch (request.request()) {
            case GET_FEATURES -> reply.u64(features);
            case GET_PROTOCOL_FEATURES -> reply.u64(protocolFeatures);
            case SET_PROTOCOL_FEATURES -> negotiatedProtocolFeatures = request.u64();
            case GET_QUEUE_NUM -> reply.u64(1);
            case GET_MAX_MEM_SLOTS -> reply.u64(8);
            case SET_STATUS -> status = request.u64();
            case GET_STATUS -> reply.u64(status);
            case SET_VRING_BASE -> vringBases[request.vringIndex()] = request.vringNum();
            case GET_VRING_BASE -> reply.vringState(request.vringIndex(), vringBases[request.vringIndex()]);
            case GET_CONFIG -> {
                final int offset = Math.min(config.length, request.configOffset());
                final int size = Math.min(request.configSize(), config.length - offset);
                final MemorySegment data = MemorySegment.ofArray(config).asSlice(offset);
                reply.config(request.configOffset(), size, request.configFlags(), data);
            }
            case SET_LOG_BASE -> reply.empty();
            case IOTLB_MSG -> reply.u64(0);
            case GET_INFLIGHT_FD -> {
                final long bytes = 4096;
                final int memfd = MemFd.create("inflight", bytes);
                try {
                    reply.inflight(bytes, 0, request.inflightQueueCount(), request.inflightQueueSize(), memfd);
                } finally {
                    synchronized (keptFds) {
                        keptFds.add(memfd);
                    }
                }
            }
            case CREATE_CRYPTO_SESSION, POSTCOPY_END, CHECK_DEVICE_STATE, SET_DEVICE_STATE_FD -> reply.u64(0);
            case POSTCOPY_ADVISE, GET_SHARED_OBJECT -> {
                try (Arena arena = Arena.ofConfined()) {
                    reply.bytes(arena.allocate(8));
                }
            }
            default -> {
            }
        }
    }

    @Override
    public void disconnected() {
        synchronized (keptFds) {
            keptFds.forEach(FileIo::closeQuietly);
            keptFds.clear();
        }
        disconnects.incrementAndGet();
    }

    /** @return every request received so far, in order */
    public List<Received> received() {
        return List.copyOf(received);
    }

    /** @return the ids of the requests received so far, in order */
    public List<String> requestNames() {
        return received.stream().map(r -> name(r.request())).toList();
    }

    /** @return how often {@link #connected} was called */
    public int connects() {
        return connects.get();
    }

    /** @return how often {@link #disconnected} was called */
    public int disconnects() {
        return disconnects.get();
    }

    /** @return the last status the front-end set */
    public long status() {
        return status;
    }

    /** @return the configuration bytes GET_CONFIG answers from */
    public byte[] config() {
        return config.clone();
    }

    /** Waits until {@code condition} holds or {@code timeoutMs} passes. @return whether it held */
    public static boolean await(final java.util.function.BooleanSupplier condition, final long timeoutMs) {
        return Await.until(condition, timeoutMs);
    }
}

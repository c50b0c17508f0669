package io.vioplane.vhostuser.transport;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.platform.testing.Await;
import io.vioplane.platform.testing.OpenFds;
import io.vioplane.vhostuser.backend.VhostUserBackend;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.EchoPort;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Coverage-guided fuzzing (Jazzer) of the real request handler: a fuzzed front-end sends a sequence of well-framed
 * requests to a {@link VhostUserBackend} serving a virtio-net device (echo port, a real data plane), each with a
 * payload laid out for its request type and fuzzed fields (memory tables over real memfds with fuzzed guest
 * addresses, sizes, user addresses and offsets; ring numbers, bases and user addresses near the regions; kick, call
 * and error eventfds; features, protocol features, status, enables, IOTLB messages, config reads) or a raw payload,
 * then hangs up.
 *
 * <p>Invariants: the connection ends once the front-end hangs up; the handler never fails with anything but a typed
 * refusal (no handler error counted, nothing "unexpected" logged); and after the disconnect every descriptor the
 * front-end sent is closed and every region the back-end mapped is unmapped.
 *
 * <p>{@link FramingFuzzTest} covers the bytes below the handler; this target covers the handler's state machine
 * across requests. Run normally, it replays its stored inputs; with {@code JAZZER_FUZZ=1} it fuzzes.
 */
class BackendFuzzTest {
    private static final IoEventLoopGroup GROUP = EventLoops.newControlPlane("vhost-user-backend-fuzz");
    private static final DataPlane DATA_PLANE = new DataPlane("backend-fuzz-dataplane", false, e -> { });
    private static final long FEATURES = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);
    private static final long REGION_BYTES = 1 << 20;
    private static final long UADDR = 0x7f00_0000_0000L;
    private static final String REGION_NAME = "backend-fuzz-region";
    private static final int[] REQUESTS = {GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE,
        SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR,
        GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE, SEND_RARP, NET_SET_MTU,
        IOTLB_MSG, GET_CONFIG, SET_CONFIG, RESET_DEVICE, GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG, SET_STATUS,
        GET_STATUS};

    @AfterAll
    static void stop() {
        EventLoops.shutdown(GROUP);
        DATA_PLANE.close();
    }

    @FuzzTest(maxDuration = "30s")
    void backendSurvivesAnyRequestSequence(final FuzzedDataProvider data) throws Exception {
        final EchoPort echo = new EchoPort(1, 4);
        final VirtioNetDevice device = new VirtioNetDevice("net[fuzz]", new VirtioNetConfig(new byte[] {0x52, 0x54,
                0, 0x12, 0x34, 0x56}, 1, 1500), FEATURES, echo, Counters.inMemory(64));
        final VhostUserBackend backend = new VhostUserBackend(new NetVhostUserDevice(device), DATA_PLANE,
                ErrorLog.printingTo(line -> { }));
        final int baselineFds = OpenFds.count();
        final int[] pair = UnixSockets.socketPair();
        FileIo.setNonBlocking(pair[0], true);
        final List<String> log = new CopyOnWriteArrayList<>();
        final CountDownLatch closed = new CountDownLatch(1);
        final IoEventLoop loop = GROUP.next();
        final ConnectionCounters counters = new ConnectionCounters(null, "fuzz");
        loop.submit(() -> VhostUserConnection.open(pair[0], "fuzz", backend, loop, counters,
                ErrorLog.printingTo(log::add), data.consumeBoolean(), closed::countDown)).get();
        try (TestFrontEnd frontEnd = TestFrontEnd.over(pair[1])) {
            final int requests = data.consumeInt(1, 24);
            for (int i = 0; i < requests && data.remainingBytes() > 0; i++) {
                final int request = data.consumeBoolean() ? REQUESTS[data.consumeInt(0, REQUESTS.length - 1)]
                        : data.consumeInt(1, 43);
                final int[] fds = descriptors(request, data);
                try {
                    frontEnd.send(request, data.consumeBoolean() ? TestFrontEnd.FLAGS_NEED_REPLY : TestFrontEnd.FLAGS,
                            payload(request, data), fds);
                } catch (SysException peerGone) {
                    break;
                } finally {
                    for (int fd : fds) {
                        FileIo.closeQuietly(fd);
                    }
                }
            }
        }
        assertTrue(closed.await(10, TimeUnit.SECONDS), "the connection ends after the front-end hangs up: " + log);
        DATA_PLANE.run(echo::close);
        assertEquals(0, counters.get(ConnectionCounters.Kind.HANDLER_ERRORS), "the handler only refuses: " + log);
        assertTrue(log.stream().noneMatch(line -> line.contains("unexpected")), "nothing escaped: " + log);
        assertTrue(Await.until(() -> OpenFds.count() == baselineFds, 10_000), "every descriptor closed: "
                + OpenFds.count() + " open, " + baselineFds + " before");
        assertTrue(Await.until(() -> mappedRegions() == 0, 10_000), "every region unmapped: " + mappedRegions());
    }

    private static long mappedRegions() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(REGION_NAME))
                    .count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int[] descriptors(final int request, final FuzzedDataProvider data) {
        final int count = switch (request) {
            case SET_MEM_TABLE -> data.consumeInt(0, 3);
            case ADD_MEM_REG, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> data.consumeInt(0, 5) == 0 ? 0 : 1;
            default -> data.consumeInt(0, 9) == 0 ? 1 : 0;
        };
        final int[] fds = new int[count];
        for (int i = 0; i < count; i++) {
            fds[i] = request == SET_MEM_TABLE || request == ADD_MEM_REG
                    ? MemFd.create(REGION_NAME, data.pickValue(new long[] {REGION_BYTES, 4096, 0}))
                    : EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC).fd();
        }
        return fds;
    }

    private static long address(final FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 4)) {
            case 0 -> UADDR + 64L * data.consumeInt(0, (int) (REGION_BYTES / 64));
            case 1 -> UADDR + REGION_BYTES - data.consumeInt(0, 4096);
            case 2 -> data.consumeInt(0, (int) REGION_BYTES);
            case 3 -> UADDR - data.consumeInt(0, 64);
            default -> data.consumeLong();
        };
    }

    private static long size(final FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 3)) {
            case 0 -> REGION_BYTES;
            case 1 -> 4096L * data.consumeInt(0, 256);
            case 2 -> REGION_BYTES + data.consumeInt(1, 4096);
            default -> data.consumeLong();
        };
    }

    private static ByteBuffer region(final ByteBuffer buffer, final FuzzedDataProvider data) {
        return buffer.putLong(data.consumeBoolean() ? 0x1_0000_0000L * data.consumeInt(0, 3) : data.consumeLong())
                .putLong(size(data)).putLong(data.consumeBoolean() ? UADDR : data.consumeLong())
                .putLong(data.consumeBoolean() ? 0 : data.consumeLong(0, REGION_BYTES * 2));
    }

    private static byte[] payload(final int request, final FuzzedDataProvider data) {
        if (data.consumeInt(0, 7) == 0) {
            return data.consumeBytes(data.consumeInt(0, 300));
        }
        final ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        final int ring = data.consumeInt(0, 3) == 0 ? data.consumeInt(0, 300) : data.consumeInt(0, 2);
        switch (request) {
            case SET_FEATURES -> b.putLong(data.consumeBoolean() ? FEATURES & data.consumeLong() : data.consumeLong());
            case SET_PROTOCOL_FEATURES, SET_STATUS, NET_SET_MTU -> b.putLong(data.consumeBoolean()
                    ? data.consumeLong(0, 0xFFFF) : data.consumeLong());
            case SET_MEM_TABLE -> {
                final int regions = data.consumeInt(0, 9);
                b.putInt(regions).putInt(0);
                for (int i = 0; i < regions && i < 8; i++) {
                    region(b, data);
                }
            }
            case ADD_MEM_REG, REM_MEM_REG -> region(b.putLong(0), data);
            case SET_VRING_NUM, SET_VRING_BASE, GET_VRING_BASE, SET_VRING_ENABLE -> b.putInt(ring)
                    .putInt(data.pickValue(new int[] {0, 1, 256, 255, 32768, 0x8100, data.consumeInt()}));
            case SET_VRING_ADDR -> b.putInt(ring).putInt(data.consumeInt(0, 1)).putLong(address(data))
                    .putLong(address(data)).putLong(address(data)).putLong(data.consumeLong());
            case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> b.putLong(ring | (data.consumeInt(0, 5) == 0
                    ? VhostUserMessage.NOFD_FLAG : 0));
            case SEND_RARP -> b.putLong(data.consumeLong());
            case IOTLB_MSG -> b.putLong(address(data)).putLong(size(data)).putLong(address(data))
                    .put((byte) data.consumeInt(0, 4)).put((byte) data.consumeInt(0, 5)).put(new byte[6]);
            case GET_CONFIG, SET_CONFIG -> {
                final int size = data.consumeInt(0, 64);
                b.putInt(data.consumeInt(0, 64)).putInt(size).putInt(data.consumeInt(0, 1))
                        .put(data.consumeBytes(size));
            }
            default -> {
                return new byte[0];
            }
        }
        final byte[] bytes = new byte[b.position()];
        b.flip().get(bytes);
        return bytes;
    }
}

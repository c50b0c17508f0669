package io.vioplane.vhostuser.backend;

import io.vioplane.platform.testing.Await;
import io.netty.channel.IoEventLoopGroup;
import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.frontend.VhostUserFrontEnd;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import io.vioplane.vhostuser.transport.EventLoops;
import io.vioplane.vhostuser.transport.VhostUserServer;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.EchoPort;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A front-end that lies in its IOTLB messages (QEMU docs/interop/vhost-user.rst, "IOMMU support"), against the real
 * back-end with VIRTIO_F_ACCESS_PLATFORM negotiated: each lie is refused with a failure acknowledgement and a counter,
 * the table keeps only what was valid, and the connection goes on (a valid update afterwards is taken). Also the miss
 * protocol: a ring whose areas have no translations waits, the back-end asks for them on the back-end channel, and the
 * ring starts once the front-end's UPDATE arrives.
 */
class HostileIotlbFrontEndTest {
    private static final long USER_OFFSET = 0x7F00_0000_0000L;
    private static final long MEMORY_BYTES = 1 << 20;
    private static final long FEATURES = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ)
            | VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM);

    @TempDir
    Path directory;
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final CounterSet<DeviceIotlbCounter> counters = CounterSet.unpublished(DeviceIotlbCounter.class);
    private DataPlane dataPlane;
    private IoEventLoopGroup controlPlane;
    private EchoPort echo;
    private VhostUserServer server;
    private GuestMemory memory;
    private VhostUserFrontEnd frontEnd;
    private TestFrontEnd backendChannel;

    @BeforeEach
    void connect() {
        dataPlane = new DataPlane("test-dataplane", false, Throwable::printStackTrace);
        controlPlane = EventLoops.newControlPlane("test-control");
        echo = new EchoPort(1, 256);
        final VirtioNetDevice device = new VirtioNetDevice("net[iotlb]", new VirtioNetConfig(
                new byte[] {0x52, 0x54, 0, 0, 0, 1}, 1, 1500), FEATURES, echo, Counters.inMemory(64));
        final NetVhostUserDevice vhostDevice = new NetVhostUserDevice(device);
        final ErrorLog log = ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8));
        final Path socket = directory.resolve("vu.sock");
        server = VhostUserServer.builder(socket, () -> new VhostUserBackend(vhostDevice, dataPlane, log)
                .iotlbCounters(counters)).eventLoopGroup(controlPlane).log(log).start();
        memory = GuestMemory.ofMemFd(0, MEMORY_BYTES);
        frontEnd = VhostUserFrontEnd.connect(socket, 10_000);
        final long features = frontEnd.negotiate(FEATURES | VirtioFeature.bit(VirtioFeature.VERSION_1),
                VirtioFeature.mask(ProtocolFeature.BACKEND_REQ));
        assertTrue(VirtioFeature.has(features, VirtioFeature.ACCESS_PLATFORM), "ACCESS_PLATFORM negotiated");
        frontEnd.setMemoryTable(memory, USER_OFFSET);
        final int[] pair = UnixSockets.socketPair();
        frontEnd.request(VhostUserRequest.SET_BACKEND_REQ_FD, new byte[0], pair[0]);
        FileIo.closeQuietly(pair[0]);
        backendChannel = TestFrontEnd.over(pair[1]);
    }

    @AfterEach
    void close() {
        frontEnd.close();
        backendChannel.close();
        server.close();
        EventLoops.shutdown(controlPlane);
        dataPlane.close();
        echo.close();
        memory.close();
    }

    private static byte[] iotlb(final long iova, final long size, final long userAddr, final int permissions,
                                final int type) {
        final ByteBuffer payload = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder());
        payload.putLong(iova).putLong(size).putLong(userAddr).put((byte) permissions).put((byte) type);
        return payload.array();
    }

    private void update(final long iova, final long size, final long gpa, final int permissions) {
        assertEquals(0, send(iotlb(iova, size, gpa + USER_OFFSET, permissions, 2)), "a valid update is acknowledged");
    }

    /** @return the back-end's u64 status reply to the IOTLB_MSG (0 success, non-zero refused) */
    private long send(final byte[] message) {
        return ByteBuffer.wrap(frontEnd.request(VhostUserRequest.IOTLB_MSG, message)).order(ByteOrder.nativeOrder())
                .getLong();
    }

    /** A lie, the counter that must count it, and what it sends. */
    record Lie(String name, DeviceIotlbCounter counter, byte[] message) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> lies() {
        return Stream.of(
                new Lie("update of zero bytes", DeviceIotlbCounter.REFUSED_ZERO_SIZE,
                        iotlb(0x10000, 0, USER_OFFSET, 3, 2)),
                new Lie("update whose iova range wraps", DeviceIotlbCounter.REFUSED_WRAPS,
                        iotlb(-0x1000L, 0x2000, USER_OFFSET, 3, 2)),
                new Lie("update without permissions", DeviceIotlbCounter.REFUSED_PERMISSIONS,
                        iotlb(0x10000, 0x1000, USER_OFFSET, 0, 2)),
                new Lie("update to a user address outside the memory table", DeviceIotlbCounter.REFUSED_OUTSIDE_MEMORY,
                        iotlb(0x10000, 0x1000, USER_OFFSET + MEMORY_BYTES, 3, 2)),
                new Lie("update running past the end of the memory table", DeviceIotlbCounter.REFUSED_OUTSIDE_MEMORY,
                        iotlb(0x10000, 0x2000, USER_OFFSET + MEMORY_BYTES - 0x1000, 3, 2)),
                new Lie("update whose user range wraps", DeviceIotlbCounter.REFUSED_OUTSIDE_MEMORY,
                        iotlb(0x10000, 0x2000, -0x1000L, 3, 2)),
                new Lie("update overlapping an entry that translates elsewhere", DeviceIotlbCounter.REFUSED_OVERLAP,
                        iotlb(0x1800, 0x1000, USER_OFFSET + 0x8000, 3, 2)),
                new Lie("invalidation of zero bytes", DeviceIotlbCounter.REFUSED_ZERO_SIZE,
                        iotlb(0x1000, 0, 0, 0, 3)),
                new Lie("invalidation whose range wraps", DeviceIotlbCounter.REFUSED_WRAPS,
                        iotlb(-0x10L, 0x20, 0, 0, 3)),
                new Lie("a miss sent to the back-end", DeviceIotlbCounter.REFUSED_TYPE,
                        iotlb(0x1000, 0, 0, 1, 1)),
                new Lie("an access failure sent to the back-end", DeviceIotlbCounter.REFUSED_TYPE,
                        iotlb(0x1000, 0, 0, 1, 4))).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lies")
    void aLyingIotlbMessageIsRefusedCountedAndTheConnectionGoesOn(final Lie lie) {
        update(0x1000, 0x1000, 0x1000, 3);
        assertNotEquals(0, send(lie.message()), lie.name() + " gets a failure status");
        assertEquals(1, counters.get(lie.counter()), lie.name() + ": " + counters);
        update(0x3000, 0x1000, 0x3000, 1);
        assertEquals(2, counters.get(DeviceIotlbCounter.UPDATES), "the connection still takes valid updates");
    }

    @Test
    void aRingWithoutTranslationsAsksForThemAndStartsWhenTheUpdateArrives() throws Exception {
        final long descIova = 0x4000_0000L;
        final long availIova = 0x4000_1000L;
        final long usedIova = 0x4000_2000L;
        update(usedIova, 0x1000, 0x12000, 3);
        try (EventFd call = EventFd.create(); EventFd kick = EventFd.create()) {
            frontEnd.setUpVring(0, 64, 0, descIova, usedIova, availIova, call, kick);
            final TestFrontEnd.Reply first = backendChannel.readReply();
            final TestFrontEnd.Reply second = backendChannel.readReply();
            for (TestFrontEnd.Reply miss : new TestFrontEnd.Reply[] {first, second}) {
                assertEquals(VhostUserRequest.BACKEND_IOTLB_MSG, miss.request());
                final ByteBuffer body = ByteBuffer.wrap(miss.payload()).order(ByteOrder.nativeOrder());
                assertEquals(1, body.get(25), "type MISS");
                assertEquals(1, body.get(24), "the rings' driver side is read");
            }
            assertEquals(descIova, ByteBuffer.wrap(first.payload()).order(ByteOrder.nativeOrder()).getLong(0));
            assertEquals(availIova, ByteBuffer.wrap(second.payload()).order(ByteOrder.nativeOrder()).getLong(0));
            assertTrue(log().contains("vring 0 waits for IOTLB translations"), log());
            assertFalse(log().contains("vring 0 started"), "no ring before its translations");
            update(descIova, 0x1000, 0x10000, 3);
            update(availIova, 0x1000, 0x11000, 3);
            assertTrue(await(() -> log().contains("vring 0 started")), "the UPDATE started the ring: " + log());
        }
        assertEquals(3, counters.get(DeviceIotlbCounter.UPDATES));
        assertTrue(counters.get(DeviceIotlbCounter.MISSES_SENT) >= 2, "a miss per missing area, asked again after"
                + " an update that did not answer it: " + counters);
    }

    @Test
    void anUpdateAcrossTwoMemoryRegionsRefusedOnItsSecondPieceLeavesNoPieceBehind() {
        final long regionBytes = 0x10000;
        final long farGpa = 0x4000_0000L;
        try (GuestMemory two = GuestMemory.builder().addMemFd(0, regionBytes).addMemFd(farGpa, regionBytes).build()) {
            final ByteBuffer table = ByteBuffer.allocate(8 + 32 * 2).order(ByteOrder.nativeOrder());
            table.putInt(2).putInt(0);
            table.putLong(0).putLong(regionBytes).putLong(USER_OFFSET).putLong(0);
            table.putLong(farGpa).putLong(regionBytes).putLong(USER_OFFSET + regionBytes).putLong(0);
            frontEnd.request(VhostUserRequest.SET_MEM_TABLE, table.array(), two.regions().get(0).fd(),
                    two.regions().get(1).fd());
            final long iova = 0x9000_0000L;
            assertEquals(0, send(iotlb(iova + 0x1000, 0x1000, USER_OFFSET + regionBytes + 0x5000, 3, 2)),
                    "iova + 4 KiB maps into the second region");
            assertNotEquals(0, send(iotlb(iova, 0x2000, USER_OFFSET + regionBytes - 0x1000, 3, 2)),
                    "an update whose user range runs from the first region into the second, where its second piece"
                            + " overlaps the entry above, is refused");
            assertEquals(1, counters.get(DeviceIotlbCounter.REFUSED_OVERLAP), counters.toString());
            assertEquals(1, counters.get(DeviceIotlbCounter.UPDATES), "no piece of the refused update was added: "
                    + counters);
            assertEquals(0, send(iotlb(iova, 0x1000, USER_OFFSET + 0x3000, 3, 2)),
                    "its first page is still free to map elsewhere");
        }
    }

    private String log() {
        return logged.toString(StandardCharsets.UTF_8);
    }

    private static boolean await(final java.util.function.BooleanSupplier condition) {
        return Await.until(condition, 10_000);
    }
}

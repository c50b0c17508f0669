package io.vioplane.vhostuser.backend;

import io.vioplane.platform.testing.Await;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.testing.OpenFds;
import io.vioplane.vhostuser.frontend.NetFrontEnd;
import io.vioplane.vhostuser.frontend.VhostUserFrontEnd;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.transport.ConnectionCounters;
import io.vioplane.vhostuser.transport.EventLoops;
import io.vioplane.vhostuser.transport.VhostUserServer;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.EchoPort;
import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.device.DeviceStatus;
import io.vioplane.vring.split.SplitRing;
import io.netty.channel.IoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The device-agnostic back-end serving a virtio-net echo device over a real vhost-user socket, driven by the
 * in-process front-end: traffic both ways for split and packed rings, ring states, memory-table and ring-address
 * checks against a hostile front-end, a guest breaking a ring, dirty logging, and releasing everything at
 * disconnect.
 */
class VhostUserBackendTest {
    private static final byte[] MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    private static final long FEATURES = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);

    @TempDir
    Path directory;
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private DataPlane dataPlane;
    private IoEventLoopGroup controlPlane;
    private EchoPort echo;
    private VirtioNetDevice device;
    private VhostUserServer server;
    private Path socket;

    @BeforeEach
    void setUp() {
        dataPlane = new DataPlane("test-dataplane", false, Throwable::printStackTrace);
        controlPlane = EventLoops.newControlPlane("test-control");
        echo = new EchoPort(1, 256);
        device = new VirtioNetDevice("net[test]", new VirtioNetConfig(MAC, 1, 1500), FEATURES, echo, Counters.inMemory(64));
        final NetVhostUserDevice vhostDevice = new NetVhostUserDevice(device);
        final ErrorLog log = ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8));
        socket = directory.resolve("vu.sock");
        server = VhostUserServer.builder(socket, () -> new VhostUserBackend(vhostDevice, dataPlane, log))
                .eventLoopGroup(controlPlane).log(log).start();
    }

    @AfterEach
    void tearDown() {
        server.close();
        EventLoops.shutdown(controlPlane);
        dataPlane.close();
        echo.close();
    }

    private String log() {
        return logged.toString(StandardCharsets.UTF_8);
    }

    private static boolean await(final java.util.function.BooleanSupplier condition) {
        return Await.until(condition, 10_000);
    }

    private static int echoFrames(final NetFrontEnd frontEnd, final int count) throws InterruptedException {
        final byte[] frame = new byte[60];
        frame[0] = 0x02;
        frame[6] = 0x52;
        final int[] received = {0};
        final NetFrontEnd.FrameSink check = (buffer, offset, length) -> {
            assertEquals(60, length);
            assertEquals(0x52, buffer.get(ValueLayout.JAVA_BYTE, offset), "addresses swapped by the echo");
        };
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment segment = arena.allocate(60);
            for (int i = 0; i < count; i++) {
                frame[59] = (byte) i;
                MemorySegment.copy(frame, 0, segment, ValueLayout.JAVA_BYTE, 0, 60);
                while (!frontEnd.transmit(segment, 0, 60)) {
                    frontEnd.reapTransmitted();
                    received[0] += frontEnd.receive(check);
                }
                received[0] += frontEnd.receive(check);
            }
            await(() -> {
                received[0] += frontEnd.receive(check);
                frontEnd.reapTransmitted();
                return received[0] == count;
            });
        }
        return received[0];
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void echoesFramesForAnInProcessFrontEnd(final boolean packed) throws Exception {
        final long wanted = packed ? FEATURES : FEATURES & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        try (NetFrontEnd frontEnd = new NetFrontEnd(socket, wanted, 256)) {
            assertEquals(packed, VirtioFeature.has(frontEnd.features(), VirtioFeature.RING_PACKED));
            assertEquals(1000, echoFrames(frontEnd, 1000));
            assertNull(frontEnd.deviceFault());
            assertEquals(0, echo.droppedRingFull(), "a front-end that reads as it sends loses nothing");
            assertEquals(1000, device.queueCounters(1).packets());
        }
    }

    @Test
    void getVringBaseStopsTheRingAndReportsWhereItStood() throws Exception {
        final long wanted = FEATURES & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        try (NetFrontEnd frontEnd = new NetFrontEnd(socket, wanted, 256)) {
            echoFrames(frontEnd, 300);
            assertEquals(300 & 0xFFFF, frontEnd.control().getVringBase(1), "the transmit ring stood at 300");
            assertNull(device.queue(1), "the ring is stopped: the device does not touch it any more");
            assertNotNull(device.queue(0), "the other ring still runs");
        }
    }

    @Test
    void refusesAKickBeforeAnyMemoryTable() {
        try (VhostUserFrontEnd frontEnd = VhostUserFrontEnd.connect(socket, 5_000); EventFd kick = EventFd.create();
             EventFd call = EventFd.create()) {
            frontEnd.negotiate(FEATURES, 0);
            final VhostUserFrontEnd.FrontEndException refused = assertThrows(VhostUserFrontEnd.FrontEndException.class,
                    () -> frontEnd.setUpVring(0, 256, 0, 0x1000, 0x3000, 0x2000, call, kick));
            assertTrue(refused.getMessage().contains("SET_VRING_KICK"), refused.getMessage());
            assertTrue(log().contains("kicked before any memory table"), log());
            assertEquals(0, frontEnd.getStatus(), "the connection still answers after the refusal");
        }
    }

    @Test
    void refusesRingAddressesOutsideTheMemoryTableAndSignalsTheErrorFd() throws Exception {
        try (VhostUserFrontEnd frontEnd = VhostUserFrontEnd.connect(socket, 5_000); EventFd kick = EventFd.create();
             EventFd call = EventFd.create(); EventFd err = EventFd.create();
             GuestMemory memory = GuestMemory.ofMemFd(0, 1 << 20)) {
            frontEnd.negotiate(FEATURES & ~VirtioFeature.bit(VirtioFeature.RING_PACKED), 0);
            frontEnd.setMemoryTable(memory, NetFrontEnd.USER_ADDRESS_OFFSET);
            frontEnd.request(VhostUserRequest.SET_VRING_ERR, VhostUserFrontEnd.u64(0), err.fd());
            final long outside = NetFrontEnd.USER_ADDRESS_OFFSET + (2 << 20);
            assertThrows(VhostUserFrontEnd.FrontEndException.class,
                    () -> frontEnd.setUpVring(0, 256, 0, outside, outside + 0x4000, outside + 0x2000, call, kick));
            assertTrue(log().contains("is not inside the memory table"), log());
            assertEquals(1, err.drain(), "the front-end heard of the error on the vring's error fd");
            assertNull(device.queue(0), "nothing started");
        }
    }

    @Test
    void refusesAMemoryRegionRunningPastTheEndOfItsFile() {
        final int fd = MemFd.create("short", 1 << 16);
        try (VhostUserFrontEnd frontEnd = VhostUserFrontEnd.connect(socket, 5_000)) {
            frontEnd.negotiate(FEATURES, 0);
            final ByteBuffer table = ByteBuffer.allocate(8 + 32).order(ByteOrder.nativeOrder());
            table.putInt(1).putInt(0).putLong(0).putLong(1 << 20).putLong(0x7000_0000L).putLong(1 << 15);
            assertThrows(VhostUserFrontEnd.FrontEndException.class,
                    () -> frontEnd.request(VhostUserRequest.SET_MEM_TABLE, table.array(), fd));
            assertTrue(log().contains("runs past the end of its file"), log());
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void refusesAVringIndexTheDeviceDoesNotHave() {
        try (VhostUserFrontEnd frontEnd = VhostUserFrontEnd.connect(socket, 5_000)) {
            frontEnd.negotiate(FEATURES, 0);
            assertThrows(VhostUserFrontEnd.FrontEndException.class,
                    () -> frontEnd.request(VhostUserRequest.SET_VRING_NUM, VhostUserFrontEnd.vringState(7, 256)));
            assertTrue(log().contains("named vring 7"), log());
        }
    }

    @Test
    void aReplyAckRefusalFloodIsCountedEveryTimeAndLoggedOnce() {
        final int refusals = 2_000;
        try (VhostUserFrontEnd frontEnd = VhostUserFrontEnd.connect(socket, 5_000)) {
            frontEnd.negotiate(FEATURES, 0);
            assertTrue(frontEnd.replyAck(), "the flood rides on REPLY_ACK: every refusal is answered");
            for (int i = 0; i < refusals; i++) {
                assertThrows(VhostUserFrontEnd.FrontEndException.class,
                        () -> frontEnd.request(VhostUserRequest.SET_VRING_NUM, VhostUserFrontEnd.vringState(7, 256)));
            }
            assertEquals(refusals, server.activeConnection().counters().get(ConnectionCounters.Kind.REFUSED),
                    "every refusal is counted");
            assertEquals(refusals, server.activeConnection().counters().get(ConnectionCounters.Kind.FAILURE_REPLIES));
        }
        assertEquals(1, log().lines().filter(line -> line.contains("named vring 7")).count(),
                "the refusal is logged once, by the transport: " + log());
    }

    @Test
    void aGuestBreakingARingSetsNeedsResetAndTheOtherRingGoesOn() throws Exception {
        final long wanted = FEATURES & ~VirtioFeature.mask(VirtioFeature.RING_PACKED, VirtioFeature.EVENT_IDX);
        try (NetFrontEnd frontEnd = new NetFrontEnd(socket, wanted, 256)) {
            echoFrames(frontEnd, 10);
            planDescriptorLoop(frontEnd);
            assertTrue(await(() -> device.queue(1) != null && device.queue(1).violation() != null), log());
            assertTrue(await(() -> (frontEnd.control().getStatus() & DeviceStatus.DEVICE_NEEDS_RESET) != 0),
                    "the front-end reads DEVICE_NEEDS_RESET once the data plane has reported the broken ring");
            assertTrue(log().contains("guest driver broke queue 1"), "logged before the status shows: " + log());
            assertNull(device.queue(0).violation(), "the receive ring is not affected");
        }
    }

    @Test
    void logsThePagesItWritesOnceTheFrontEndAsksForLogging() throws Exception {
        final long wanted = FEATURES & ~VirtioFeature.mask(VirtioFeature.RING_PACKED, VirtioFeature.EVENT_IDX);
        final int logFd = MemFd.create("dirty-log", 4096);
        try (NetFrontEnd frontEnd = new NetFrontEnd(socket, wanted, 256)) {
            echoFrames(frontEnd, 4);
            final long withLogging = frontEnd.features() | VirtioFeature.bit(VirtioFeature.LOG_ALL);
            frontEnd.control().request(VhostUserRequest.SET_FEATURES, VhostUserFrontEnd.u64(withLogging));
            final ByteBuffer log = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(4096).putLong(0);
            frontEnd.control().request(VhostUserRequest.SET_LOG_BASE, log.array(), logFd);
            final ByteBuffer address = ByteBuffer.allocate(40).order(ByteOrder.nativeOrder());
            address.putInt(0).putInt(1).putLong(0x0000_0000L + NetFrontEnd.USER_ADDRESS_OFFSET)
                    .putLong(0x000C_0000L + NetFrontEnd.USER_ADDRESS_OFFSET).putLong(0x0008_0000L + NetFrontEnd.USER_ADDRESS_OFFSET)
                    .putLong(0x000C_0000L);
            frontEnd.control().request(VhostUserRequest.SET_VRING_ADDR, address.array());
            echoFrames(frontEnd, 3);
            try (GuestMemory logView = GuestMemory.builder().addFromFd(0, 4096, logFd, 0, false).build()) {
                final byte[] bits = logView.readBytes(0, 4096);
                final java.util.List<Long> dirtyPages = new java.util.ArrayList<>();
                for (int page = 0; page < bits.length * 8; page++) {
                    if ((bits[page / 8] & (1 << (page % 8))) != 0) {
                        dirtyPages.add((long) page);
                    }
                }
                assertTrue(dirtyPages.contains(0x000C_0000L >>> 12), "the receive used ring's page: " + dirtyPages);
                assertTrue(dirtyPages.stream().anyMatch(page -> page >= 0x0200_0000L >>> 12 && page < 0x0210_0000L >>> 12),
                        "the receive buffers written: " + dirtyPages);
                assertFalse(dirtyPages.contains(0x0100_0000L >>> 12), "transmit buffers are only read: " + dirtyPages);
            }
        } finally {
            FileIo.close(logFd);
        }
    }

    @Test
    void releasesEveryDescriptorWhenTheFrontEndGoesAway() throws Exception {
        final long wanted = FEATURES & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        try (NetFrontEnd warmUp = new NetFrontEnd(socket, wanted, 256)) {
            echoFrames(warmUp, 10);
        }
        assertTrue(await(() -> server.activeConnection() == null));
        final int baseline = OpenFds.count();
        for (int i = 0; i < 5; i++) {
            try (NetFrontEnd frontEnd = new NetFrontEnd(socket, wanted, 256)) {
                assertEquals(50, echoFrames(frontEnd, 50), "connection " + i + " works");
            }
            assertTrue(await(() -> server.activeConnection() == null));
        }
        assertEquals(baseline, OpenFds.count(), "memfds, eventfds and sockets of five sessions were all released");
    }

    /** Plays a hostile guest: a descriptor that chains to itself, made available on the transmit ring. */
    private static void planDescriptorLoop(final NetFrontEnd frontEnd) {
        final GuestMemory memory = frontEnd.memory();
        final long desc = frontEnd.transmitDescriptorGpa() + 16L * 200;
        final long avail = frontEnd.transmitDriverAreaGpa();
        final int availIdx = memory.getShort(avail + SplitRing.AVAIL_IDX) & 0xFFFF;
        memory.putLong(desc, 0x0100_0000L);
        memory.putInt(desc + 8, 64);
        memory.putShort(desc + 12, (short) SplitRing.F_NEXT);
        memory.putShort(desc + 14, (short) 200);
        memory.putShort(avail + SplitRing.AVAIL_RING + 2L * (availIdx % 256), (short) 200);
        memory.putShortRelease(avail + SplitRing.AVAIL_IDX, (short) (availIdx + 1));
    }
}

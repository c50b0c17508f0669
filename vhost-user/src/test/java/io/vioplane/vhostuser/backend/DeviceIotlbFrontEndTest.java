package io.vioplane.vhostuser.backend;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.testing.Await;
import io.vioplane.vhostuser.frontend.NetFrontEnd;
import io.vioplane.vhostuser.frontend.VhostUserFrontEnd;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import io.vioplane.vhostuser.transport.EventLoops;
import io.vioplane.vhostuser.transport.VhostUserServer;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.NetQueueCounters;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.EchoPort;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The back-end's device IOTLB (QEMU docs/interop/vhost-user.rst "IOMMU support"; VIRTIO_F_ACCESS_PLATFORM) against an
 * in-process front-end with an IOMMU ({@link NetFrontEnd} mapping its areas through IOTLB_MSG).
 *
 * <p>A guest that unmaps a buffer it has posted, before the device uses it, gets no data through it: the front-end
 * posts buffers, takes their mappings back with an INVALIDATE, then makes the device need them. The device asks for
 * a translation (a MISS on the back-end channel) and its ring waits; nothing reaches the memory the iova used to
 * name, and nothing is read from it. When the guest maps the iova again, somewhere else, the data goes there; when
 * it maps it read-only, the receive fails and is counted. An INVALIDATE of a running ring's own areas pauses that
 * ring until they are translated again. With live migration's dirty log, the pages logged are guest-physical.
 */
class DeviceIotlbFrontEndTest {
    private static final int QUEUE_SIZE = 64;
    private static final long FEATURES = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ)
            & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
    private static final byte STALE = (byte) 0xEE;
    private static final int FRAME_BYTES = 60;
    private static final int HEADER_BYTES = 12;
    /** Memory of the front-end no area uses: where the guest maps the iovas again. */
    private static final long ELSEWHERE_GPA = 0x0300_0000L;
    private static final long RECEIVE_AREA_BYTES = (long) QUEUE_SIZE * NetFrontEnd.RX_BUFFER_BYTES;
    private static final int MISS = 1;
    /** {@link NetFrontEnd}'s receive ring areas: descriptors, driver area, device area. */
    private static final long RX_RINGS_GPA = 0;
    private static final long RX_AVAIL_GPA = 0x8_0000L;
    private static final long RX_USED_GPA = 0xC_0000L;
    private static final long RING_AREA_BYTES = 0x10_0000L;
    private static final int READ = 1;
    private static final int WRITE = 2;

    @TempDir
    Path directory;
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final CounterSet<DeviceIotlbCounter> iotlb = CounterSet.unpublished(DeviceIotlbCounter.class);
    private DataPlane dataPlane;
    private IoEventLoopGroup controlPlane;
    private EchoPort echo;
    private VirtioNetDevice device;
    private VhostUserServer server;
    private NetFrontEnd frontEnd;
    private TestFrontEnd misses;
    private Arena arena;
    private int received;

    @BeforeEach
    void connect() {
        dataPlane = new DataPlane("test-dataplane", false, Throwable::printStackTrace);
        controlPlane = EventLoops.newControlPlane("test-control");
        echo = new EchoPort(1, 256);
        device = new VirtioNetDevice("net[unmap]", new VirtioNetConfig(new byte[] {0x52, 0x54, 0, 0, 0, 1}, 1, 1500),
                FEATURES | VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM), echo, Counters.inMemory(64));
        final NetVhostUserDevice vhostDevice = new NetVhostUserDevice(device);
        final ErrorLog log = ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8));
        final Path socket = directory.resolve("vu.sock");
        server = VhostUserServer.builder(socket, () -> new VhostUserBackend(vhostDevice, dataPlane, log)
                .iotlbCounters(iotlb)).eventLoopGroup(controlPlane).log(log).start();
        frontEnd = new NetFrontEnd(socket, FEATURES, QUEUE_SIZE, true);
        misses = TestFrontEnd.over(frontEnd.takeBackendRequests());
        arena = Arena.ofConfined();
    }

    @AfterEach
    void close() {
        arena.close();
        misses.close();
        frontEnd.close();
        server.close();
        EventLoops.shutdown(controlPlane);
        dataPlane.close();
        echo.close();
    }

    private MemorySegment frame() {
        final MemorySegment frame = arena.allocate(FRAME_BYTES);
        for (int i = 0; i < FRAME_BYTES; i++) {
            frame.set(ValueLayout.JAVA_BYTE, i, (byte) (i + 1));
        }
        frame.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x02);
        return frame;
    }

    private static void fill(final GuestMemory memory, final long gpa, final long bytes, final byte value) {
        for (long at = 0; at < bytes; at += 8) {
            memory.putLong(gpa + at, 0x0101_0101_0101_0101L * (value & 0xFF));
        }
    }

    private static void assertUntouched(final GuestMemory memory, final long gpa, final long bytes, final String what) {
        final long stale = 0x0101_0101_0101_0101L * (STALE & 0xFF);
        for (long at = 0; at < bytes; at += 8) {
            assertEquals(stale, memory.getLong(gpa + at), what + ": the device wrote at gpa 0x"
                    + Long.toHexString(gpa + at));
        }
    }

    /** Reads the next back-end request; asserts it is an IOTLB MISS for {@code iova} with {@code permission}. */
    private void expectMiss(final long iova, final int permission) {
        final TestFrontEnd.Reply request = misses.readReply();
        assertEquals(VhostUserRequest.BACKEND_IOTLB_MSG, request.request(), request.toString());
        final ByteBuffer body = ByteBuffer.wrap(request.payload()).order(ByteOrder.nativeOrder());
        assertEquals(MISS, body.get(25), "type MISS");
        assertEquals(iova, body.getLong(0), "the miss names the unmapped buffer's iova");
        assertEquals(permission, body.get(24) & permission, "the miss asks for the access the device needs");
    }

    private boolean receivedOne() {
        received += frontEnd.receive((buffer, offset, length) -> { });
        return received == 1;
    }

    @Test
    void aReceiveBufferUnmappedBeforeTheDeviceWritesItGetsNoBytesAndTheRingWaitsForTheMiss() {
        final GuestMemory memory = frontEnd.memory();
        final long oldGpa = frontEnd.receiveBufferGpa(0);
        final long iova = frontEnd.deviceAddress(oldGpa);
        fill(memory, oldGpa, RECEIVE_AREA_BYTES, STALE);
        fill(memory, ELSEWHERE_GPA, RECEIVE_AREA_BYTES, (byte) 0);
        assertEquals(0, frontEnd.iotlbInvalidate(iova, RECEIVE_AREA_BYTES), "the guest unmapped its posted buffers");
        assertEquals(1, iotlb.get(DeviceIotlbCounter.ENTRIES_INVALIDATED));

        assertTrue(frontEnd.transmit(frame(), 0, FRAME_BYTES));
        expectMiss(iova, WRITE);
        assertTrue(Await.until(() -> frontEnd.reapTransmitted() == 1, 10_000), "the frame left and was echoed");
        assertFalse(receivedOne(), "no receive completes without a translation");
        assertUntouched(memory, oldGpa, RECEIVE_AREA_BYTES, "after the miss");
        assertTrue(Await.until(() -> device.queueCounters(0).get(NetQueueCounters.Kind.NO_RECEIVE_BUFFER) > 0, 10_000),
                "the ring waits");

        assertEquals(0, frontEnd.iotlbUpdate(iova, RECEIVE_AREA_BYTES, ELSEWHERE_GPA, WRITE),
                "the guest maps the iovas again, onto other pages");
        assertTrue(Await.until(this::receivedOne, 10_000), "the waiting frame is delivered after the UPDATE: " + log());
        final MemorySegment landed = memory.translate(ELSEWHERE_GPA + HEADER_BYTES, FRAME_BYTES,
                AccessMode.READ);
        final MemorySegment sent = frame();
        assertEquals(-1, landed.asSlice(12).mismatch(sent.asSlice(12)), "the frame is in the pages the iova names now");
        assertUntouched(memory, oldGpa, RECEIVE_AREA_BYTES, "the pages the iova named before");
        assertTrue(iotlb.get(DeviceIotlbCounter.MISSES_SENT) >= 1, iotlb.toString());
        assertEquals(0, iotlb.get(DeviceIotlbCounter.PERMISSION_DENIED), iotlb.toString());
        assertNull(frontEnd.deviceFault());
    }

    @Test
    void aTransmitBufferUnmappedBeforeTheDeviceReadsItSendsNothing() {
        final long txGpa = frontEnd.transmitBufferGpa(0);
        final long txBytes = (long) QUEUE_SIZE * NetFrontEnd.RX_BUFFER_BYTES;
        final long iova = frontEnd.deviceAddress(txGpa);
        assertEquals(0, frontEnd.iotlbInvalidate(iova, txBytes), "the guest unmapped its transmit buffers");

        assertTrue(frontEnd.transmit(frame(), 0, FRAME_BYTES));
        expectMiss(iova, READ);
        assertEquals(0, frontEnd.reapTransmitted(), "the transmit waits for its translation");
        assertFalse(receivedOne(), "nothing was read from the unmapped buffer, so nothing came back");
        assertEquals(0, device.queueCounters(1).packets(), "no frame left");

        assertEquals(0, frontEnd.iotlbUpdate(iova, txBytes, txGpa, READ), "the guest maps it again");
        assertTrue(Await.until(this::receivedOne, 10_000), "the frame goes once mapped: " + log());
        assertEquals(1, device.queueCounters(1).packets());
    }

    @Test
    void aReceiveBufferRemappedReadOnlyFailsThatReceiveAndCountsIt() {
        final GuestMemory memory = frontEnd.memory();
        final long gpa = frontEnd.receiveBufferGpa(0);
        final long iova = frontEnd.deviceAddress(gpa);
        fill(memory, gpa, RECEIVE_AREA_BYTES, STALE);
        assertEquals(0, frontEnd.iotlbInvalidate(iova, RECEIVE_AREA_BYTES));
        assertEquals(0, frontEnd.iotlbUpdate(iova, RECEIVE_AREA_BYTES, gpa, READ), "mapped read-only");

        assertTrue(frontEnd.transmit(frame(), 0, FRAME_BYTES));
        assertTrue(Await.until(() -> device.queueCounters(0).get(NetQueueCounters.Kind.IOMMU_DENIED) == 1, 10_000),
                "the receive failed, counted: " + log());
        assertTrue(Await.until(this::receivedOne, 10_000), "the buffer came back used, empty");
        assertUntouched(memory, gpa, RECEIVE_AREA_BYTES, "a read-only mapping");
        assertTrue(iotlb.get(DeviceIotlbCounter.PERMISSION_DENIED) >= 1, iotlb.toString());
        assertNull(frontEnd.deviceFault());
    }

    private void echoOne() {
        received = 0;
        assertTrue(frontEnd.transmit(frame(), 0, FRAME_BYTES));
        assertTrue(Await.until(this::receivedOne, 10_000), "echoed: " + log());
        frontEnd.reapTransmitted();
    }

    @Test
    void aRingWhoseOwnAreasAreUnmappedPausesAsksForThemAndResumesWhereItStood() {
        echoOne();
        echoOne();
        final long ringsIova = frontEnd.deviceAddress(RX_RINGS_GPA);
        assertEquals(0, frontEnd.iotlbInvalidate(ringsIova, RING_AREA_BYTES), "the guest unmapped the receive ring");
        assertEquals(1, iotlb.get(DeviceIotlbCounter.RINGS_PAUSED), iotlb.toString());
        expectMiss(ringsIova, READ);
        assertTrue(log().contains("vring 0 paused"), log());

        received = 0;
        assertTrue(frontEnd.transmit(frame(), 0, FRAME_BYTES));
        assertTrue(Await.until(() -> frontEnd.reapTransmitted() == 1, 10_000), "the transmit ring goes on");
        assertFalse(receivedOne(), "the paused ring delivers nothing");

        assertEquals(0, frontEnd.iotlbUpdate(ringsIova, RING_AREA_BYTES, RX_RINGS_GPA, READ | WRITE));
        assertTrue(Await.until(this::receivedOne, 10_000), "the ring resumed and the waiting frame came: " + log());
        echoOne();
        assertNull(frontEnd.deviceFault(), "the ring resumed where it stood: no index went astray");
        assertEquals(4, device.queueCounters(0).packets(), "every frame was received once");
    }

    @Test
    void withLoggingTheDirtyLogHoldsTheGuestPhysicalPagesWrittenNotTheirIovas() throws Exception {
        final int logFd = MemFd.create("dirty-log", 4096);
        try {
            final long withLogging = frontEnd.features() | VirtioFeature.bit(VirtioFeature.LOG_ALL);
            frontEnd.control().request(VhostUserRequest.SET_FEATURES, VhostUserFrontEnd.u64(withLogging));
            final ByteBuffer logBase = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(4096).putLong(0);
            frontEnd.control().request(VhostUserRequest.SET_LOG_BASE, logBase.array(), logFd);
            final ByteBuffer address = ByteBuffer.allocate(40).order(ByteOrder.nativeOrder());
            address.putInt(0).putInt(1).putLong(frontEnd.deviceAddress(RX_RINGS_GPA))
                    .putLong(frontEnd.deviceAddress(RX_USED_GPA)).putLong(frontEnd.deviceAddress(RX_AVAIL_GPA))
                    .putLong(frontEnd.deviceAddress(RX_USED_GPA));
            frontEnd.control().request(VhostUserRequest.SET_VRING_ADDR, address.array());
            echoOne();
            final List<Long> dirtyPages = new ArrayList<>();
            try (GuestMemory logView = GuestMemory.builder().addFromFd(0, 4096, logFd, 0, false).build()) {
                final byte[] bits = logView.readBytes(0, 4096);
                for (int page = 0; page < bits.length * 8; page++) {
                    if ((bits[page / 8] & (1 << (page % 8))) != 0) {
                        dirtyPages.add((long) page);
                    }
                }
            }
            assertTrue(dirtyPages.contains(RX_USED_GPA >>> 12), "the receive used ring's gpa page (QEMU gives its"
                    + " iova as the log address): " + dirtyPages);
            assertTrue(dirtyPages.contains(frontEnd.receiveBufferGpa(0) >>> 12), "the receive buffer's gpa page: "
                    + dirtyPages);
            assertFalse(dirtyPages.contains(frontEnd.transmitBufferGpa(0) >>> 12), "transmit buffers are only read: "
                    + dirtyPages);
            assertEquals(0, iotlb.get(DeviceIotlbCounter.LOG_UNTRANSLATED), iotlb.toString());
        } finally {
            FileIo.close(logFd);
        }
    }

    private String log() {
        return logged.toString(StandardCharsets.UTF_8);
    }
}

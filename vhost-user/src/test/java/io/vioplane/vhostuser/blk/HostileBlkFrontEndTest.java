package io.vioplane.vhostuser.blk;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.vhostuser.backend.SplitInflightRegion;
import io.vioplane.vhostuser.backend.VhostUserBackend;
import io.vioplane.vhostuser.frontend.VhostUserFrontEnd;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.transport.EventLoops;
import io.vioplane.vhostuser.transport.VhostUserServer;
import io.vioplane.virtioblk.BlkLimits;
import io.vioplane.virtioblk.BlkRequestType;
import io.vioplane.virtioblk.VirtioBlkConfig;
import io.vioplane.virtioblk.VirtioBlkFeature;
import io.vioplane.virtioblk.backend.RawImageBackend;
import io.vioplane.virtioblk.engine.BlkQueueCounters;
import io.vioplane.virtioblk.engine.VirtioBlkDevice;
import io.vioplane.virtioblk.testkit.BlkDriver;
import io.vioplane.virtioblk.testkit.HostileBlkRequests;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A hostile vhost-user-blk front-end against the real back-end (the {@link VhostUserBackend} over a
 * {@link VirtioBlkDevice} on a raw image, its own data-plane thread, a real socket and shared memory): every request
 * of the device's hostile catalogue ({@link HostileBlkRequests}: past the capacity, sector overflow, wrong-direction
 * data, status missing or read-only, short GET_ID buffer, DISCARD ranges overlapping or above the limits ...) is
 * refused with its status and counted, the image is untouched, and the queue goes on serving; and an inflight buffer
 * handed over with SET_INFLIGHT_FD that is too small, past its file's end, misplaced, or holds corrupted entries is
 * refused (a failure acknowledgement) or reset (the ring resumes at the used index, nothing resubmitted), counted,
 * and the connection goes on.
 */
class HostileBlkFrontEndTest {
    private static final long USER_OFFSET = 0x7F00_0000_0000L;
    private static final int QUEUE_SIZE = 256;
    private static final long RINGS_GPA = 0;
    private static final long AVAIL_GPA = 0x8_0000L;
    private static final long USED_GPA = 0xC_0000L;
    private static final long BUFFERS_GPA = 0x10_0000L;
    private static final int BUFFER_PAGES = 3500;
    private static final long MEMORY_BYTES = BUFFERS_GPA + BUFFER_PAGES * 4096L;
    private static final BlkLimits LIMITS = new BlkLimits(126, 1 << 20, 1 << 16, 16,
            HostileBlkRequests.DISCARD_ALIGNMENT, 1 << 16, 16);
    private static final long FEATURES = VirtioBlkFeature.offered(false, 1)
            & ~VirtioFeature.mask(VirtioFeature.RING_PACKED, VirtioFeature.EVENT_IDX, VirtioFeature.INDIRECT_DESC)
            | VirtioFeature.bit(VirtioFeature.VERSION_1);

    @TempDir
    Path directory;
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private ErrorLog log;
    private byte[] original;
    private Path image;
    private DataPlane dataPlane;
    private IoEventLoopGroup controlPlane;
    private RawImageBackend backend;
    private VirtioBlkDevice device;
    private VhostUserServer server;
    private GuestMemory memory;
    private VhostUserFrontEnd frontEnd;
    private EventFd kick;
    private EventFd call;
    private DriverQueue driverQueue;

    @BeforeEach
    void serve() throws Exception {
        image = directory.resolve("disk.img");
        original = new byte[(int) HostileBlkRequests.CAPACITY_SECTORS * 512];
        for (int i = 0; i < original.length; i++) {
            original[i] = (byte) (i * 7 + 1);
        }
        Files.write(image, original);
        dataPlane = new DataPlane("test-blk-dataplane", false, Throwable::printStackTrace);
        controlPlane = EventLoops.newControlPlane("test-blk-control");
        log = ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8));
        backend = RawImageBackend.open(image, false, false);
        device = new VirtioBlkDevice("blk[hostile]", new VirtioBlkConfig(HostileBlkRequests.CAPACITY_SECTORS, LIMITS,
                1, true), VirtioBlkFeature.offered(false, 1), backend, "hostile", Counters.inMemory(4096),
                new VirtioBlkDevice.CompletionWatch() {
                    @Override
                    public void watch(final EventFd signal, final int queueIndex) {
                        dataPlane.watch(signal, count -> { });
                    }

                    @Override
                    public void unwatch(final EventFd signal) {
                        dataPlane.unwatch(signal);
                    }
                }, log);
        final BlkVhostUserDevice vhostDevice = new BlkVhostUserDevice(device);
        final Path socket = directory.resolve("blk.sock");
        server = VhostUserServer.builder(socket, () -> new VhostUserBackend(vhostDevice, dataPlane, log))
                .eventLoopGroup(controlPlane).log(log).start();
        memory = GuestMemory.ofMemFd(0, MEMORY_BYTES);
        frontEnd = VhostUserFrontEnd.connect(socket, 10_000);
        final long features = frontEnd.negotiate(FEATURES,
                VirtioFeature.mask(ProtocolFeature.CONFIG, ProtocolFeature.INFLIGHT_SHMFD));
        assertTrue(frontEnd.replyAck(), "REPLY_ACK negotiated, so refusals come back as failure acks");
        frontEnd.setMemoryTable(memory, USER_OFFSET);
        kick = EventFd.create();
        call = EventFd.create();
        driverQueue = VirtQueues.driver(new QueueConfig(QUEUE_SIZE, RINGS_GPA, AVAIL_GPA, USED_GPA,
                features & ~VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES)), memory, 0, 1, false);
        driverQueue.disableInterrupts();
    }

    @AfterEach
    void close() {
        frontEnd.close();
        server.close();
        EventLoops.shutdown(controlPlane);
        dataPlane.close();
        backend.close();
        memory.close();
        kick.close();
        call.close();
    }

    private void startRing() {
        frontEnd.setUpVring(0, QUEUE_SIZE, 0, RINGS_GPA + USER_OFFSET, USED_GPA + USER_OFFSET,
                AVAIL_GPA + USER_OFFSET, call, kick);
        frontEnd.setVringEnable(0, true);
    }

    private BlkDriver driver() {
        return BlkDriver.over(memory, driverQueue, device, () -> {
            if (driverQueue.needsKick()) {
                kick.signal();
            }
        }, BUFFERS_GPA, BUFFER_PAGES);
    }

    private BlkQueueCounters counters() {
        return device.queueCounters(0);
    }

    private String log() {
        return logged.toString(StandardCharsets.UTF_8);
    }

    /** A valid read of sector 0 still completes with OK and the image's bytes. */
    private void assertStillServes(final BlkDriver blk) {
        final long buffer = blk.allocate(512);
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.IN, 0).writable(buffer, 512).status().run(),
                "the queue still serves requests");
        for (int i = 0; i < 512; i++) {
            assertEquals(original[i], memory.getByte(buffer + i), "byte " + i + " read back");
        }
    }

    static List<HostileBlkRequests.Attack> attacks() {
        return HostileBlkRequests.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void aHostileRequestOverVhostUserIsRefusedCountedAndWritesNothing(final HostileBlkRequests.Attack attack)
            throws Exception {
        startRing();
        final BlkDriver blk = driver();
        attack.build().accept(blk);
        final int token = blk.submit();
        blk.awaitUsed(1);
        assertEquals(attack.status(), blk.status(token), "status byte");
        assertEquals(attack.status() == BlkDriver.UNTOUCHED ? 0 : 1, blk.usedLength(token), "used length");
        assertEquals(1, counters().refused(attack.refusal()), "counted as " + attack.refusal());
        assertEquals(1, counters().refusedTotal(), "counted once");
        assertStillServes(blk);
        assertEquals(0, counters().writes() + counters().discards() + counters().writeZeroes(),
                "nothing reached the image");
        assertArrayEquals(original, Files.readAllBytes(image), "image untouched");
        assertNull(driverQueue.deviceFault(), "the back-end kept to the ring protocol");
    }

    /** SET_INFLIGHT_FD's body: mmap_size, mmap_offset, num_queues, queue_size (QEMU's VhostUserInflight). */
    private static byte[] inflight(final long mmapSize, final long mmapOffset, final int queues, final int size) {
        return ByteBuffer.allocate(24).order(ByteOrder.nativeOrder()).putLong(mmapSize).putLong(mmapOffset)
                .putShort((short) queues).putShort((short) size).array();
    }

    private void refusedSetInflight(final long fileBytes, final byte[] body, final String why) {
        final long refusedBefore = server.activeConnection().counters().get(io.vioplane.vhostuser.transport.ConnectionCounters.Kind.REFUSED);
        final int fd = MemFd.create("hostile-inflight", fileBytes);
        try {
            final VhostUserFrontEnd.FrontEndException refused = assertThrows(VhostUserFrontEnd.FrontEndException.class,
                    () -> frontEnd.request(VhostUserRequest.SET_INFLIGHT_FD, body, fd), why);
            assertTrue(refused.getMessage().contains("SET_INFLIGHT_FD"), refused.getMessage());
        } finally {
            FileIo.close(fd);
        }
        assertEquals(refusedBefore + 1, server.activeConnection().counters().get(io.vioplane.vhostuser.transport.ConnectionCounters.Kind.REFUSED), why + ": counted");
        assertTrue(log().contains("SET_INFLIGHT_FD"), "the refusal is logged: " + log());
        startRing();
        final BlkDriver blk = driver();
        assertStillServes(blk);
        assertEquals(0, counters().writes(), "nothing was resubmitted");
        assertTrue(log().contains("not tracked") || !log().contains("resubmitting"), log());
    }

    @Test
    void anInflightBufferTooSmallForItsQueuesIsRefused() {
        final long needed = SplitInflightRegion.bytesFor(QUEUE_SIZE);
        refusedSetInflight(needed, inflight(needed - 64, 0, 1, QUEUE_SIZE), "mmap_size below one queue's region");
    }

    @Test
    void anInflightBufferPastTheEndOfItsFileIsRefused() {
        final long needed = SplitInflightRegion.bytesFor(QUEUE_SIZE);
        refusedSetInflight(needed / 2, inflight(needed, 0, 1, QUEUE_SIZE), "the memfd is half as long as claimed");
    }

    @Test
    void anInflightBufferAtAnUnalignedOffsetIsRefused() {
        final long needed = SplitInflightRegion.bytesFor(QUEUE_SIZE);
        refusedSetInflight(2 * needed + 4096, inflight(needed, 100, 1, QUEUE_SIZE), "mmap_offset 100");
    }

    @Test
    void anInflightBufferForMoreQueuesThanTheDeviceHasIsRefused() {
        final long needed = 2 * SplitInflightRegion.bytesFor(QUEUE_SIZE);
        refusedSetInflight(needed, inflight(needed, 0, 2, QUEUE_SIZE), "two queues on a one-queue device");
    }

    @Test
    void anInflightBufferWithAQueueSizeNotAPowerOfTwoIsRefused() {
        final long needed = SplitInflightRegion.bytesFor(300);
        refusedSetInflight(needed, inflight(needed, 0, 1, 300), "queue size 300");
    }

    /** A corruption of the inflight region: what it writes into the region (little-endian, see the layout). */
    record Corruption(String name, Consumer<MemorySegment> write) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static void header(final MemorySegment region, final int version, final int descNum,
                               final int lastBatchHead, final int usedIdx) {
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 8, (short) version);
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 10, (short) descNum);
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 12, (short) lastBatchHead);
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 14, (short) usedIdx);
    }

    private static void inflightEntry(final MemorySegment region, final int head, final int flag, final long counter) {
        region.set(ValueLayout.JAVA_BYTE, 16 + 16L * head, (byte) flag);
        region.set(ValueLayout.JAVA_LONG_UNALIGNED, 16 + 16L * head + 8, counter);
    }

    static List<Corruption> corruptions() {
        return List.of(
                new Corruption("unknown layout version", region -> header(region, 7, QUEUE_SIZE, 0, 0)),
                new Corruption("desc_num other than the ring's size", region -> header(region, 1, 64, 0, 0)),
                new Corruption("last_batch_head outside the ring", region -> header(region, 1, QUEUE_SIZE, 4000, 0)),
                new Corruption("used_idx far behind the ring", region -> header(region, 1, QUEUE_SIZE, 0, 65000)),
                new Corruption("an inflight flag that is neither 0 nor 1", region -> {
                    header(region, 1, QUEUE_SIZE, 0, 0);
                    inflightEntry(region, 3, 0x7F, 1);
                }),
                new Corruption("more chains in flight than the avail ring ever held", region -> {
                    header(region, 1, QUEUE_SIZE, 0, 0);
                    for (int head = 0; head < QUEUE_SIZE; head++) {
                        inflightEntry(region, head, 1, head + 1);
                    }
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptions")
    void aCorruptedInflightRegionIsResetCountedAndTheRingServesFromTheUsedIndex(final Corruption corruption) {
        final long bytes = SplitInflightRegion.bytesFor(QUEUE_SIZE);
        final int fd = MemFd.create("corrupted-inflight", bytes);
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment region = io.vioplane.platform.sys.Mmap.map(fd, 0, bytes,
                    io.vioplane.platform.sys.Mmap.PROT_READ | io.vioplane.platform.sys.Mmap.PROT_WRITE,
                    io.vioplane.platform.sys.Mmap.MAP_SHARED, arena);
            corruption.write().accept(region);
            frontEnd.request(VhostUserRequest.SET_INFLIGHT_FD, inflight(bytes, 0, 1, QUEUE_SIZE), fd);
            final long errorsBefore = log.count();
            startRing();
            final BlkDriver blk = driver();
            assertStillServes(blk);
            assertTrue(log().contains("inflight region of vring 0 is corrupted"), corruption.name() + ": " + log());
            assertTrue(log.count() > errorsBefore, "counted as a failure");
            assertFalse(log().contains("resubmitting"), "nothing resubmitted: " + log());
            assertEquals(0, counters().writes(), "nothing written");
            assertEquals(1, region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 8), "the region is tracked afresh (version 1)");
            assertEquals(QUEUE_SIZE, region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 10));
            assertEquals(1, Short.toUnsignedInt(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 14)),
                    "used_idx follows the ring");
        } finally {
            FileIo.close(fd);
        }
        assertArrayEquals(original, readImage(), "image untouched");
        assertNull(driverQueue.deviceFault());
    }

    private byte[] readImage() {
        try {
            return Files.readAllBytes(image);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

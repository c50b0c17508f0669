package io.vioplane.virtioblk;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtioblk.backend.RawImageBackend;
import io.vioplane.virtioblk.engine.BlkQueueCounters;
import io.vioplane.virtioblk.testkit.BlkDriver;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device over a raw image whose queues use io_uring; {@link InlineIoVirtioBlkDeviceTest} runs it all inline. */
class VirtioBlkDeviceTest {
    private static final int IMAGE_BYTES = 1 << 20;
    private static final long FEATURES = VirtioBlkFeature.offered(false, 1)
            & ~VirtioFeature.mask(VirtioFeature.RING_PACKED, VirtioFeature.IN_ORDER);

    @TempDir
    Path dir;
    private Path image;
    private RawImageBackend backend;
    private BlkDriver blk;

    @BeforeEach
    void createImage() throws Exception {
        image = dir.resolve("disk.img");
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            channel.truncate(0);
            channel.write(ByteBuffer.allocate(1), IMAGE_BYTES - 1);
        }
    }

    /** @return how the image's queues do their I/O */
    RawImageBackend.IoMode ioMode() {
        return RawImageBackend.IoMode.IO_URING;
    }

    private void start(final boolean readOnly, final boolean writeback, final long features) {
        backend = RawImageBackend.open(image, readOnly, false, ioMode());
        assertEquals(ioMode() == RawImageBackend.IoMode.INLINE, backend.inline());
        blk = BlkDriver.start(backend, BlkLimits.DEFAULT, features, writeback, Counters.inMemory(4096));
    }

    @AfterEach
    void stop() {
        if (blk != null) {
            blk.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private long pattern(final int bytes, final int seed) {
        final long gpa = blk.allocate(bytes);
        final GuestMemory memory = blk.memory();
        for (int i = 0; i < bytes; i++) {
            memory.putByte(gpa + i, (byte) (i * 31 + seed));
        }
        return gpa;
    }

    private byte[] guestBytes(final long gpa, final int bytes) {
        final byte[] out = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            out[i] = blk.memory().getByte(gpa + i);
        }
        return out;
    }

    @Test
    void writtenSectorsReadBackAndLandAtTheirOffsetInTheImage() throws Exception {
        start(false, false, FEATURES);
        final long source = pattern(8192, 7);
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.OUT, 16).readable(source, 4096)
                .readable(source + 4096, 4096).status().run());
        final long target = blk.allocate(8192);
        final int t = blk.header(BlkRequestType.IN, 16).writable(target, 512).writable(target + 512, 7680).status()
                .submit();
        blk.awaitUsed(1);
        assertEquals(BlkRequestType.S_OK, blk.status(t));
        assertEquals(8193, blk.usedLength(t));
        assertArrayEquals(guestBytes(source, 8192), guestBytes(target, 8192));
        final byte[] onDisk = Arrays.copyOfRange(Files.readAllBytes(image), 16 * 512, 16 * 512 + 8192);
        assertArrayEquals(guestBytes(source, 8192), onDisk);
        final BlkQueueCounters counters = blk.device().queueCounters(0);
        assertEquals(1, counters.writes());
        assertEquals(1, counters.reads());
    }

    @Test
    void headerDataAndStatusSharingSegmentsAreSplitCorrectly() throws Exception {
        start(false, true, FEATURES);
        final long out = blk.allocate(BlkRequestType.HEADER_BYTES + 512);
        blk.memory().putInt(out, BlkRequestType.OUT);
        blk.memory().putLong(out + 8, 3);
        for (int i = 0; i < 512; i++) {
            blk.memory().putByte(out + 16 + i, (byte) 0xC3);
        }
        final long status = blk.allocate(1);
        blk.memory().putByte(status, BlkDriver.UNTOUCHED);
        blk.readable(out, 528).writable(status, 1).run();
        assertEquals(BlkRequestType.S_OK, blk.memory().getByte(status));
        final long in = blk.allocate(513);
        final long header = blk.allocate(16);
        blk.memory().putInt(header, BlkRequestType.IN);
        blk.memory().putLong(header + 8, 3);
        blk.memory().putByte(in + 512, BlkDriver.UNTOUCHED);
        blk.readable(header, 16).writable(in, 513).submit();
        blk.awaitUsed(1);
        assertEquals(BlkRequestType.S_OK, blk.memory().getByte(in + 512));
        assertEquals((byte) 0xC3, blk.memory().getByte(in + 511));
        assertEquals((byte) 0xC3, Files.readAllBytes(image)[3 * 512 + 511]);
        assertEquals(0, Files.readAllBytes(image)[4 * 512]);
    }

    @Test
    void manyRequestsCompleteInFewerBatchesThanRequests() {
        start(false, true, FEATURES);
        final long buffer = pattern(4096, 1);
        for (int i = 0; i < 64; i++) {
            blk.header(BlkRequestType.OUT, 8L * i).readable(buffer, 4096).status().submit();
        }
        blk.awaitUsed(64);
        final BlkQueueCounters counters = blk.device().queueCounters(0);
        assertEquals(64, counters.writes());
        assertTrue(counters.batches() < 64, "completions were published in batches: " + counters.batches());
    }

    @Test
    void directIoBypassingThePageCacheReadsWhatItWrote() throws Exception {
        backend = RawImageBackend.open(image, false, true, ioMode());
        blk = BlkDriver.start(backend, BlkLimits.DEFAULT, FEATURES, false, Counters.inMemory(4096));
        final long source = pattern(16384, 11);
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.OUT, 64).readable(source, 16384).status().run());
        final long target = blk.allocate(16384);
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.IN, 64).writable(target, 16384).status().run());
        assertArrayEquals(guestBytes(source, 16384), guestBytes(target, 16384));
        assertArrayEquals(guestBytes(source, 16384),
                Arrays.copyOfRange(Files.readAllBytes(image), 64 * 512, 64 * 512 + 16384));
    }

    @Test
    void flushSucceedsInBothCacheModes() {
        start(false, true, FEATURES);
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.FLUSH, 0).status().run());
        blk.device().configuration().writeback(false);
        final long buffer = pattern(512, 3);
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.OUT, 0).readable(buffer, 512).status().run());
        assertEquals(1, blk.device().queueCounters(0).flushes());
    }

    @Test
    void getIdAnswersTheSerialPaddedWithNul() {
        start(false, true, FEATURES);
        final long id = blk.allocate(20);
        final int t = blk.header(BlkRequestType.GET_ID, 0).writable(id, 20).status().submit();
        blk.awaitUsed(1);
        assertEquals(BlkRequestType.S_OK, blk.status(t));
        assertEquals(21, blk.usedLength(t));
        assertEquals("vioplane-test-serial", new String(guestBytes(id, 20), StandardCharsets.US_ASCII));
    }

    @Test
    void discardPunchesAHoleAndWriteZeroesZeroesTheRange() throws Exception {
        start(false, true, FEATURES);
        final long buffer = pattern(65536, 9);
        for (int i = 0; i < 16; i++) {
            assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.OUT, 128L * i).readable(buffer, 65536)
                    .status().run());
        }
        final long blocksBefore = allocatedBlocks();
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.DISCARD, 0).range(0, 1024, 0).status().run());
        assertTrue(allocatedBlocks() < blocksBefore, "discard freed blocks: " + blocksBefore + " -> "
                + allocatedBlocks());
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.WRITE_ZEROES, 0)
                .range(1024, 8, 0).range(1100, 8, BlkRequestType.RANGE_FLAG_UNMAP).status().run());
        final byte[] onDisk = Files.readAllBytes(image);
        for (int i = 0; i < 1032 * 512; i++) {
            if (onDisk[i] != 0) {
                throw new AssertionError("byte " + i + " not zero after discard/write-zeroes");
            }
        }
        assertEquals((byte) (8192 * 31 + 9), onDisk[1040 * 512]);
        assertEquals(1, blk.device().queueCounters(0).discards());
        assertEquals(1, blk.device().queueCounters(0).writeZeroes());
    }

    private long allocatedBlocks() throws Exception {
        final Process stat = new ProcessBuilder("stat", "-c", "%b", image.toString()).start();
        final String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        stat.waitFor();
        return Long.parseLong(out);
    }

    @Test
    void readOnlyImageRefusesWritesAndKeepsServingReads() throws Exception {
        Files.write(image, new byte[] {1, 2, 3}, StandardOpenOption.WRITE);
        start(true, true, VirtioBlkFeature.offered(true, 1) & ~VirtioFeature.mask(VirtioFeature.RING_PACKED));
        final long buffer = pattern(512, 5);
        assertEquals(BlkRequestType.S_IOERR, blk.header(BlkRequestType.OUT, 0).readable(buffer, 512).status().run());
        assertEquals(BlkRequestType.S_UNSUPP, blk.header(BlkRequestType.DISCARD, 0).range(0, 8, 0).status().run());
        final long target = blk.allocate(512);
        assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.IN, 0).writable(target, 512).status().run());
        assertEquals(2, blk.memory().getByte(target + 1));
        assertEquals(1, blk.device().queueCounters(0).refused(BlkRefusal.READ_ONLY));
    }

    @Test
    void inOrderUsesChainsInTheOrderTheyWereTaken() {
        start(false, true, FEATURES | VirtioFeature.bit(VirtioFeature.IN_ORDER));
        final long buffer = pattern(4096, 2);
        final int first = blk.header(BlkRequestType.FLUSH, 0).status().submit();
        final int second = blk.header(BlkRequestType.GET_ID, 0).writable(buffer, 4095).status().submit();
        blk.awaitUsed(2);
        assertEquals(BlkRequestType.S_OK, blk.status(first));
        assertEquals(BlkRequestType.S_OK, blk.status(second));
    }

    @Test
    void configurationShowsCapacityLimitsAndTakesWritebackOnlyWithConfigWce() {
        start(false, true, FEATURES);
        final MemorySegment space = Arena.ofAuto().allocate(VirtioBlkConfig.BYTES);
        blk.device().readConfig(0, space);
        assertEquals(IMAGE_BYTES / 512, space.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        assertEquals(BlkLimits.DEFAULT.segMax(), space.get(ValueLayout.JAVA_INT_UNALIGNED, 12));
        assertEquals(512, space.get(ValueLayout.JAVA_INT_UNALIGNED, 20));
        assertEquals(1, space.get(ValueLayout.JAVA_BYTE, 32));
        assertEquals(1, space.get(ValueLayout.JAVA_SHORT_UNALIGNED, 34));
        final MemorySegment off = Arena.ofAuto().allocate(1);
        assertTrue(blk.device().writeConfiguration(VirtioBlkConfig.WRITEBACK, off));
        assertEquals(false, blk.device().configuration().writeback());
        blk.device().setNegotiatedFeatures(FEATURES & ~VirtioFeature.bit(VirtioBlkFeature.CONFIG_WCE));
        off.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        assertEquals(false, blk.device().writeConfiguration(VirtioBlkConfig.WRITEBACK, off));
        assertEquals(false, blk.device().configuration().writeback());
        assertEquals(false, blk.device().writeConfiguration(0, off));
    }

    @Test
    void grownImageIsSeenAsANewCapacity() throws Exception {
        start(false, true, FEATURES);
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1), 2L * IMAGE_BYTES - 1);
        }
        assertTrue(blk.device().refreshCapacity());
        assertEquals(2L * IMAGE_BYTES / 512, blk.device().configuration().capacitySectors());
    }
}

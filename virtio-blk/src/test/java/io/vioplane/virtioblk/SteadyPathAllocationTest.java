package io.vioplane.virtioblk;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.virtioblk.backend.RawImageBackend;
import io.vioplane.virtioblk.engine.VirtioBlkDevice;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.testkit.RingFixture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The request path of a virtio-blk queue (take chains, validate, submit reads and writes to io_uring as one batch,
 * reap completions, publish used elements, decide on one interrupt per batch) allocates nothing per request: bytes
 * allocated by the thread that polls the device and drives the ring (its driver side writes headers through
 * segments translated once, so it allocates nothing either),
 * measured with {@link com.sun.management.ThreadMXBean}, over many 4 KiB reads and writes, 32 in flight; with the I/O
 * through io_uring and done inline alike.
 */
class SteadyPathAllocationTest {
    private static final int IN_FLIGHT = 32;
    private static final int WARM_UP_REQUESTS = 100_000;
    private static final int MEASURED_REQUESTS = 100_000;
    private static final int MAX_WINDOWS = 6;
    /**
     * What one window of {@link #MEASURED_REQUESTS} may allocate (2 B/request): seen here 13 KB to 137 KB per window
     * depending on how the JIT compiled the FFM and VarHandle internals (with -XX:-UseTLAB, JFR shows 24-byte
     * Strings and small byte[] inside SharedUtils.checkNative and VarHandle guards, none in vioplane's code), while
     * one 16-byte object per request would be 1.6 MB.
     */
    private static final long ALLOWED_BYTES_PER_WINDOW = 2L * MEASURED_REQUESTS;

    @TempDir
    Path directory;

    @ParameterizedTest
    @EnumSource(value = RawImageBackend.IoMode.class, names = {"IO_URING", "INLINE"})
    void readsAndWritesAllocateNothingPerRequest(final RawImageBackend.IoMode mode) throws Exception {
        final Path image = directory.resolve("disk.img");
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(1 << 20);
        }
        final long features = VirtioBlkFeature.offered(false, 1)
                & ~VirtioFeature.mask(VirtioFeature.RING_PACKED, VirtioFeature.IN_ORDER);
        try (RawImageBackend backend = RawImageBackend.open(image, false, false, mode);
             RingFixture fixture = RingFixture.create(256, features)) {
            final VirtioBlkDevice device = new VirtioBlkDevice("blk[alloc]", new VirtioBlkConfig(
                    backend.sizeBytes() / 512, BlkLimits.DEFAULT, 1, true), VirtioBlkFeature.offered(false, 1),
                    backend, "alloc", Counters.inMemory(4096), VirtioBlkDevice.CompletionWatch.NONE,
                    ErrorLog.printingTo(System.err));
            device.setNegotiatedFeatures(fixture.config().features());
            device.startQueue(0, fixture.device(), () -> { });
            final Ring ring = new Ring(fixture.memory(), fixture.driver(false), device);
            final com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            final long self = Thread.currentThread().threadId();
            ring.run(WARM_UP_REQUESTS);
            final StringBuilder windows = new StringBuilder();
            long least = Long.MAX_VALUE;
            for (int window = 0; window < MAX_WINDOWS && least > ALLOWED_BYTES_PER_WINDOW; window++) {
                final long before = threads.getThreadAllocatedBytes(self);
                ring.run(MEASURED_REQUESTS);
                final long allocated = threads.getThreadAllocatedBytes(self) - before;
                windows.append(allocated).append(" B ");
                least = Math.min(least, allocated);
            }
            System.out.println("device + driver allocated, per window of " + MEASURED_REQUESTS + " requests: "
                    + windows);
            assertTrue(least <= ALLOWED_BYTES_PER_WINDOW, "every window of " + MEASURED_REQUESTS
                    + " requests allocated more than " + ALLOWED_BYTES_PER_WINDOW + " bytes: " + windows);
            assertEquals(0, device.queueCounters(0).refusedTotal() + device.queueCounters(0).ioErrors());
            assertTrue(device.queueCounters(0).batches() < device.queueCounters(0).reads()
                    + device.queueCounters(0).writes(), "completions are published in batches");
            device.reset();
        }
    }

    /** The driver side: {@link #IN_FLIGHT} slots, each request re-placed as soon as it comes back. */
    private static final class Ring {
        private final GuestMemory memory;
        private final DriverQueue driver;
        private final VirtioBlkDevice device;
        private final java.lang.foreign.MemorySegment[] headers = new java.lang.foreign.MemorySegment[IN_FLIGHT];
        private final long[] gpas = new long[3];
        private final int[] lengths = new int[3];
        private final int[] tokens = new int[256];
        private final int[] used = new int[256];
        private long sequence;

        Ring(final GuestMemory memory, final DriverQueue driver, final VirtioBlkDevice device) {
            this.memory = memory;
            this.driver = driver;
            this.device = device;
            for (int slot = 0; slot < IN_FLIGHT; slot++) {
                headers[slot] = memory.translate(header(slot), BlkRequestType.HEADER_BYTES + 1,
                        io.vioplane.platform.memory.AccessMode.READ_WRITE);
            }
            for (int slot = 0; slot < IN_FLIGHT; slot++) {
                place(slot);
            }
            driver.publish();
        }

        private static long header(final int slot) {
            return RingFixture.buffer(slot);
        }

        private static long data(final int slot) {
            return RingFixture.buffer(IN_FLIGHT + slot);
        }

        private void place(final int slot) {
            final boolean write = (sequence++ & 1) == 0;
            final long sector = (sequence * 8) % 2040;
            headers[slot].set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0,
                    write ? BlkRequestType.OUT : BlkRequestType.IN);
            headers[slot].set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 4, 0);
            headers[slot].set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 8, sector);
            gpas[0] = header(slot);
            lengths[0] = BlkRequestType.HEADER_BYTES;
            gpas[1] = data(slot);
            lengths[1] = 4096;
            gpas[2] = header(slot) + BlkRequestType.HEADER_BYTES;
            lengths[2] = 1;
            if (!driver.add(gpas, lengths, write ? 2 : 1, write ? 1 : 2, slot)) {
                throw new IllegalStateException("ring full");
            }
        }

        void run(final int requests) {
            int done = 0;
            while (done < requests) {
                device.poll();
                final int n = driver.reap(tokens, used, tokens.length);
                for (int i = 0; i < n; i++) {
                    if (headers[tokens[i]].get(java.lang.foreign.ValueLayout.JAVA_BYTE, BlkRequestType.HEADER_BYTES)
                            != BlkRequestType.S_OK) {
                        throw new IllegalStateException("request failed");
                    }
                    place(tokens[i]);
                }
                if (n > 0) {
                    driver.publish();
                }
                done += n;
            }
        }
    }
}

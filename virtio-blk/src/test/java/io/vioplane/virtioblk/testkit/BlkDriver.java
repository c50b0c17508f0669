package io.vioplane.virtioblk.testkit;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.virtioblk.BlkLimits;
import io.vioplane.virtioblk.BlkRequestType;
import io.vioplane.virtioblk.VirtioBlkConfig;
import io.vioplane.virtioblk.VirtioBlkFeature;
import io.vioplane.virtioblk.backend.BlockBackend;
import io.vioplane.virtioblk.engine.VirtioBlkDevice;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.testkit.RingFixture;

import java.util.ArrayList;
import java.util.List;

/**
 * The driver side of a virtio-blk queue for tests: builds request chains segment by segment in a
 * {@link RingFixture}'s buffer area (header, data, status, in any shape, hostile ones included), runs the device
 * until they come back used, and reads their status bytes. {@link #over} puts the same chains in front of a device
 * elsewhere (a vhost-user back-end reached through shared memory).
 */
public final class BlkDriver implements AutoCloseable {
    /** A status value the device never writes, placed before each request. */
    public static final byte UNTOUCHED = (byte) 0x5A;

    private final RingFixture fixture;
    private final GuestMemory memory;
    private final DriverQueue driver;
    private final VirtioBlkDevice device;
    private final Runnable published;
    private final Runnable pump;
    private final long bufferGpa;
    private final int bufferPages;
    private final List<Long> gpas = new ArrayList<>();
    private final List<Integer> lengths = new ArrayList<>();
    private int readable;
    private int writable;
    private long statusGpa = -1;
    private int nextBuffer;
    private final int[] tokens = new int[256];
    private final int[] used = new int[256];
    private final long[] statusOf = new long[1024];
    private final int[] usedOf = new int[1024];
    private int token;

    private BlkDriver(final RingFixture fixture, final VirtioBlkDevice device) {
        this.fixture = fixture;
        this.device = device;
        this.memory = fixture.memory();
        this.driver = fixture.driver(false);
        this.published = () -> { };
        this.pump = device::poll;
        this.bufferGpa = RingFixture.BUFFER_GPA;
        this.bufferPages = 2900;
    }

    private BlkDriver(final GuestMemory memory, final DriverQueue driver, final VirtioBlkDevice device,
                      final Runnable published, final long bufferGpa, final int bufferPages) {
        this.fixture = null;
        this.memory = memory;
        this.driver = driver;
        this.device = device;
        this.published = published;
        this.pump = Thread::onSpinWait;
        this.bufferGpa = bufferGpa;
        this.bufferPages = bufferPages;
    }

    /**
     * Builds chains in {@code memory} for a device served elsewhere (by another thread or process), through
     * {@code driver}.
     *
     * @param device      the device, when it is in this process (for its counters), or null
     * @param published   called after each request is published (e.g. kick the back-end if it asked for it)
     * @param bufferGpa   where this driver's buffers start in {@code memory}
     * @param bufferPages how many 4 KiB buffers it may use there (reused round-robin)
     */
    public static BlkDriver over(final GuestMemory memory, final DriverQueue driver, final VirtioBlkDevice device,
                                 final Runnable published, final long bufferGpa, final int bufferPages) {
        return new BlkDriver(memory, driver, device, published, bufferGpa, bufferPages);
    }

    /**
     * A device over {@code backend} with one queue of 256 and the given features negotiated, started.
     *
     * @param writeback start in writeback mode
     */
    public static BlkDriver start(final BlockBackend backend, final BlkLimits limits, final long features,
                                  final boolean writeback, final Counters counters) {
        final RingFixture fixture = RingFixture.create(256, features);
        final VirtioBlkConfig config = new VirtioBlkConfig(backend.sizeBytes() / BlkRequestType.SECTOR_BYTES, limits,
                1, writeback);
        final VirtioBlkDevice device = new VirtioBlkDevice("blk[test]", config,
                VirtioBlkFeature.offered(backend.readOnly(), 1), backend, "vioplane-test-serial", counters,
                VirtioBlkDevice.CompletionWatch.NONE, ErrorLog.printingTo(System.err));
        final BlkDriver blk = new BlkDriver(fixture, device);
        device.setNegotiatedFeatures(fixture.config().features());
        device.startQueue(0, fixture.device(), () -> { });
        return blk;
    }

    /** @return the device */
    public VirtioBlkDevice device() {
        return device;
    }

    /** @return the guest memory */
    public GuestMemory memory() {
        return memory;
    }

    /** @return the gpa of a fresh 4 KiB-aligned buffer of {@code bytes} */
    public long allocate(final int bytes) {
        final int pages = (bytes + 4095) / 4096;
        if (nextBuffer + pages > bufferPages) {
            nextBuffer = 0;
        }
        final long gpa = bufferGpa + (long) nextBuffer * 4096;
        nextBuffer += pages;
        return gpa;
    }

    /** Adds a 16-byte readable header. */
    public BlkDriver header(final int type, final long sector) {
        final long gpa = allocate(BlkRequestType.HEADER_BYTES);
        memory().putInt(gpa, type);
        memory().putInt(gpa + 4, 0);
        memory().putLong(gpa + 8, sector);
        return readable(gpa, BlkRequestType.HEADER_BYTES);
    }

    /** Adds a readable segment. */
    public BlkDriver readable(final long gpa, final int length) {
        gpas.add(gpa);
        lengths.add(length);
        readable++;
        return this;
    }

    /** Adds a writable segment. */
    public BlkDriver writable(final long gpa, final int length) {
        gpas.add(gpa);
        lengths.add(length);
        writable++;
        return this;
    }

    /** Adds a readable DISCARD / WRITE_ZEROES range segment. */
    public BlkDriver range(final long sector, final int sectors, final int flags) {
        final long gpa = allocate(BlkRequestType.RANGE_BYTES);
        memory().putLong(gpa, sector);
        memory().putInt(gpa + 8, sectors);
        memory().putInt(gpa + 12, flags);
        return readable(gpa, BlkRequestType.RANGE_BYTES);
    }

    /** Adds the writable status byte (preset to {@link #UNTOUCHED}). */
    public BlkDriver status() {
        statusGpa = allocate(1);
        memory().putByte(statusGpa, UNTOUCHED);
        return writable(statusGpa, 1);
    }

    /** Makes the request built so far available; returns its token. */
    public int submit() {
        final long[] g = gpas.stream().mapToLong(Long::longValue).toArray();
        final int[] l = lengths.stream().mapToInt(Integer::intValue).toArray();
        final int t = token++ % statusOf.length;
        statusOf[t] = statusGpa;
        usedOf[t] = -1;
        if (!driver.add(g, l, readable, writable, t)) {
            throw new IllegalStateException("ring full");
        }
        gpas.clear();
        lengths.clear();
        readable = 0;
        writable = 0;
        statusGpa = -1;
        driver.publish();
        published.run();
        return t;
    }

    /** Polls the device until {@code count} requests came back used (at most 10 s). */
    public void awaitUsed(final int count) {
        int got = 0;
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (got < count) {
            pump.run();
            final int n = driver.reap(tokens, used, tokens.length);
            for (int i = 0; i < n; i++) {
                usedOf[tokens[i]] = used[i];
            }
            got += n;
            if (driver.deviceFault() != null) {
                throw new IllegalStateException("device fault: " + driver.deviceFault());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + got + " of " + count + " requests came back");
            }
        }
    }

    /** Submits the request built so far and waits for it; returns its status byte. */
    public byte run() {
        final int t = submit();
        awaitUsed(1);
        return status(t);
    }

    /** @return request {@code t}'s status byte, or {@link #UNTOUCHED} */
    public byte status(final int t) {
        return statusOf[t] < 0 ? UNTOUCHED : memory().getByte(statusOf[t]);
    }

    /** @return the used length the device reported for request {@code t} */
    public int usedLength(final int t) {
        return usedOf[t];
    }

    @Override
    public void close() {
        if (fixture != null) {
            device.reset();
            fixture.close();
        }
    }
}

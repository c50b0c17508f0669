package io.vioplane.perf.iommu;

import io.vioplane.iommu.DeviceIotlb;
import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.iommu.DeviceIotlbDmaSpace;
import io.vioplane.iommu.IotlbEntry;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.CounterSet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * The price of vhost-user's device IOTLB on a DMA (VIRTIO_F_ACCESS_PLATFORM; QEMU docs/interop/vhost-user.rst "IOMMU
 * support"): resolving a 1500-byte buffer through {@link DeviceIotlbDmaSpace} with a warm cache against resolving it
 * in guest memory directly (the goal: at most 10 ns added per DMA), and what a strictly unmapping guest
 * costs the data plane per buffer: an INVALIDATE and an UPDATE of its page (the messages themselves not counted)
 * and the translation that follows. {@value #PAGES} pages, each its own 4 KiB translation to a scattered gpa, as
 * Linux's DMA API maps a NIC's buffers; the device cycles through them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DeviceIotlbBenchmark {
    /** Pages the buffers occupy, each mapped by its own entry. */
    public static final int PAGES = 32;
    /** Bytes per buffer. */
    public static final int BUFFER_BYTES = 1500;
    /** First iova (Linux allocates iovas downward from 4 GiB). */
    public static final long IOVA_BASE = 0xFFF0_0000L;
    /** First gpa of the buffers' pages. */
    public static final long DATA_GPA = 16L << 20;
    private static final int PAGE_BYTES = 4096;
    private static final int SCATTER = 7;

    private GuestMemory memory;
    private DeviceIotlb table;
    private DeviceIotlbDmaSpace space;
    private final DmaRange range = new DmaRange();
    private int next;

    /** @return the gpa page iova page {@code page} maps to (scattered: neighbours are not contiguous) */
    public static long gpaOfPage(final int page) {
        return DATA_GPA + (long) PAGE_BYTES * (page * SCATTER % PAGES);
    }

    /** Maps 32 MiB of guest memory and one translation per page. */
    @Setup
    public void setUp() {
        memory = GuestMemory.ofMemFd(0, 32L << 20);
        table = new DeviceIotlb(CounterSet.unpublished(DeviceIotlbCounter.class));
        space = new DeviceIotlbDmaSpace(table, memory, (iova, permissions) -> {
            throw new IllegalStateException("a miss at iova 0x" + Long.toHexString(iova) + " in a warm benchmark");
        });
        for (int page = 0; page < PAGES; page++) {
            table.update(IOVA_BASE + (long) PAGE_BYTES * page, PAGE_BYTES, gpaOfPage(page),
                    IotlbEntry.READ | IotlbEntry.WRITE);
        }
    }

    /** Unmaps guest memory. */
    @TearDown
    public void tearDown() {
        memory.close();
    }

    private int nextPage() {
        next = next + 1 & PAGES - 1;
        return next;
    }

    /** @return whether a buffer resolved in guest memory directly (no IOMMU) */
    @Benchmark
    public boolean resolveWithoutIommu() {
        return memory.resolve(gpaOfPage(nextPage()) + 512, BUFFER_BYTES, AccessMode.WRITE, range);
    }

    /** @return whether a buffer resolved through the device IOTLB with a warm cache */
    @Benchmark
    public boolean resolveThroughDeviceIotlb() {
        return space.resolve(IOVA_BASE + (long) PAGE_BYTES * nextPage() + 512, BUFFER_BYTES, AccessMode.WRITE, range);
    }

    /**
     * @return whether the buffer resolved after its page was invalidated and mapped again (strict unmapping: the
     *     table update, the cache flush it causes, and the refill)
     */
    @Benchmark
    public boolean invalidateUpdateThenResolve() {
        final int page = nextPage();
        final long iova = IOVA_BASE + (long) PAGE_BYTES * page;
        table.invalidate(iova, PAGE_BYTES);
        table.update(iova, PAGE_BYTES, gpaOfPage(page), IotlbEntry.READ | IotlbEntry.WRITE);
        return space.resolve(iova + 512, BUFFER_BYTES, AccessMode.WRITE, range);
    }

    /** @return the segment offset of the last resolved range (tests check where it landed) */
    public long lastResolvedOffset() {
        return range.offset();
    }
}

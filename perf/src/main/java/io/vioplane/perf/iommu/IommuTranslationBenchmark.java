package io.vioplane.perf.iommu;

import io.vioplane.iommu.ContextEntry;
import io.vioplane.iommu.IommuDmaSpace;
import io.vioplane.iommu.MsiSink;
import io.vioplane.iommu.SourceId;
import io.vioplane.iommu.TranslationWalker;
import io.vioplane.iommu.VtdConfig;
import io.vioplane.iommu.VtdRegisterFile;
import io.vioplane.iommu.VtdUnit;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
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
 * The price of an IOMMU on a device's DMA (VT-d 3.x): resolving a 1500-byte buffer through {@link IommuDmaSpace}
 * with a warm per-device cache against resolving it in guest memory directly (the goal: at most 10 ns
 * added), a cold 4-level table walk, and a page-selective IOTLB invalidation followed by the walk that refills it.
 * The device cycles through {@value #PAGES} mapped pages, as a NIC cycles through its receive buffers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class IommuTranslationBenchmark {
    /** Pages the device's buffers occupy. */
    public static final int PAGES = 32;
    /** Bytes per buffer. */
    public static final int BUFFER_BYTES = 1500;
    private static final int NIC = SourceId.of(0, 3, 0);
    private static final long IOVA_BASE = 0x7_0000_0000L;
    private static final long DATA_GPA = 16L << 20;
    private static final long TABLE_GPA = 1L << 20;

    private GuestMemory memory;
    private VtdUnit unit;
    private IommuDmaSpace nic;
    private TranslationWalker walker;
    private ContextEntry context;
    private final DmaRange range = new DmaRange();
    private int next;

    /** Builds 32 MiB of guest memory, 4-level tables mapping {@value #PAGES} pages, and turns translation on. */
    @Setup
    public void setUp() {
        memory = GuestMemory.ofMemFd(0, 32L << 20);
        unit = new VtdUnit(memory, VtdConfig.standard(), MsiSink.NONE, Counters.inMemory(64), "iommu[bench]",
                ErrorLog.printingTo(line -> { }));
        long nextTable = TABLE_GPA;
        final long root = nextTable;
        final long contextTable = nextTable += 4096;
        final long top = nextTable += 4096;
        memory.putLong(root, contextTable | 1);
        memory.putLong(contextTable + 16L * SourceId.devfn(NIC), top | 1);
        memory.putLong(contextTable + 16L * SourceId.devfn(NIC) + 8, 1 << 8 | 2);
        long table = top;
        for (int level = 4; level > 1; level--) {
            final long child = nextTable += 4096;
            memory.putLong(table + 8 * ((IOVA_BASE >>> (12 + 9 * (level - 1))) & 0x1FF), child | 3);
            table = child;
        }
        for (int page = 0; page < PAGES; page++) {
            memory.putLong(table + 8 * ((IOVA_BASE >>> 12) + page & 0x1FF), DATA_GPA + 4096L * page | 3);
        }
        unit.registers().write(VtdRegisterFile.RTADDR, 8, root);
        unit.registers().write(VtdRegisterFile.GCMD, 4, VtdRegisterFile.GCMD_SRTP);
        unit.registers().write(VtdRegisterFile.GCMD, 4, VtdRegisterFile.GCMD_TE);
        nic = unit.dmaSpace(NIC);
        walker = new TranslationWalker(memory, VtdConfig.standard());
        context = walker.readContext(root, NIC);
        if (!resolveThroughIommu() || unit.translate(NIC, IOVA_BASE, AccessMode.READ).gpaBase() != DATA_GPA) {
            throw new IllegalStateException("tables do not translate");
        }
    }

    /** Frees the unit's counters and unmaps guest memory. */
    @TearDown
    public void tearDown() {
        unit.close();
        memory.close();
    }

    private int nextPage() {
        next = next + 1 & PAGES - 1;
        return next;
    }

    /** @return whether a buffer resolved in guest memory directly (no IOMMU) */
    @Benchmark
    public boolean resolveWithoutIommu() {
        return memory.resolve(DATA_GPA + 4096L * nextPage() + 512, BUFFER_BYTES, AccessMode.WRITE, range);
    }

    /** @return whether a buffer resolved through the IOMMU with a warm per-device cache */
    @Benchmark
    public boolean resolveThroughIommu() {
        return nic.resolve(IOVA_BASE + 4096L * nextPage() + 512, BUFFER_BYTES, AccessMode.WRITE, range);
    }

    /** @return the gpa of a cold 4-level walk (four guest-memory reads, every entry checked) */
    @Benchmark
    public long coldFourLevelWalk() {
        return walker.walk(context, IOVA_BASE + 4096L * nextPage(), AccessMode.READ).gpaBase();
    }

    /** @return the gpa after a page-selective IOTLB invalidation (register-based) and the walk that refills it */
    @Benchmark
    public long invalidatePageThenTranslate() {
        final long iova = IOVA_BASE + 4096L * nextPage();
        unit.registers().write(VtdRegisterFile.IVA, 8, iova);
        unit.registers().write(VtdRegisterFile.IOTLB, 8, 1L << 63 | 3L << 60 | 1L << 32);
        return unit.translate(NIC, iova, AccessMode.READ).gpaBase();
    }
}

package io.vioplane.perf.platform;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.LittleEndian;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The price of safety on guest memory: an acquire load through {@link GuestMemory} (region lookup among
 * eight regions, bounds and alignment checks) against the same load through a segment translated once
 * (what a virtqueue does with its ring after validating it at enable time), and the cost of translating a
 * descriptor's buffer to a slice.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GuestMemoryBenchmark {
    private static final long REGION_BYTES = 1 << 20;
    private static final int REGIONS = 8;

    private GuestMemory memory;
    private MemorySegment ring;
    private long gpa;

    /** Builds eight 1 MiB memfd regions with gaps between them. */
    @Setup
    public void setUp() {
        final GuestMemory.Builder builder = GuestMemory.builder();
        for (int i = 0; i < REGIONS; i++) {
            builder.addMemFd(i * 2 * REGION_BYTES, REGION_BYTES);
        }
        memory = builder.build();
        gpa = 5 * 2 * REGION_BYTES + 4096;
        ring = memory.translate(gpa, 4096, AccessMode.READ_WRITE);
    }

    /** Unmaps the regions. */
    @TearDown
    public void tearDown() {
        memory.close();
    }

    /** @return a le16 loaded with acquire through the guest-memory accessor */
    @Benchmark
    public short acquireThroughGuestMemory() {
        return memory.getShortAcquire(gpa + 2);
    }

    /** @return a le16 loaded with acquire through a pre-translated ring segment */
    @Benchmark
    public short acquireThroughTranslatedSegment() {
        return (short) LittleEndian.U16_ATOMIC.getAcquire(ring, 2L);
    }

    /** @return the first byte of a 1500-byte buffer translated to a slice */
    @Benchmark
    public byte translateBufferSlice() {
        return memory.translate(gpa + 512, 1500, AccessMode.READ).get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0);
    }
}

package io.vioplane.perf.vring;

import io.vioplane.platform.sys.CpuAffinity;

import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DriverQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.Control;

import java.util.concurrent.TimeUnit;

/**
 * A driver thread and a device thread over the same virtqueue of 256 descriptors in memfd guest memory, one
 * thread per core, as a guest's virtio driver and a vhost-user back-end run: the rate at which buffers cross
 * the ring when every index, flag and descriptor has to move between the two cores' caches.
 *
 * <p>JMH runs the two methods of group {@code ring} at once, one thread each, over one {@code Scope.Group}
 * {@link Ring}. The driver thread reaps used buffers and adds new ones, publishing each {@code batch}; the
 * device thread takes up to {@code batch} chains with {@link DeviceQueue#popBatch}, queues them used and
 * publishes them with one {@link DeviceQueue#publishUsed}. Neither side makes notification decisions: both
 * poll, as a poll-mode back-end and driver do. Payload bytes are never touched. Up to 256 descriptors can be in
 * flight, so the driver may run ahead of the device by that much. Each side's queue object and arrays are
 * created by its own thread ({@link DriverThread}, {@link DeviceThread}), so the two threads share the ring's
 * memory and nothing else. The driver thread is pinned to the first CPU the process may use and the device
 * thread to the second ({@link CpuAffinity}); with a single CPU allowed, neither is pinned.
 *
 * <p>Each invocation of either method moves exactly {@value #BUFFERS_PER_INVOCATION} buffers through its side,
 * by non-blocking attempts: an attempt that finds the ring full (driver) or empty (device) does no work and
 * spins once with {@link Thread#onSpinWait()}, and after {@value #IDLE_SPINS_BEFORE_YIELD} such attempts in a
 * row it calls {@link Thread#yield()}, so that if both threads share one CPU (only one allowed) the other side
 * gets to run instead of this one burning its whole time slice (with a core each, the other side answers long
 * before that). An invocation gives up early once JMH has stopped measuring
 * ({@link Control#stopMeasurement}, shared by both threads and set when the first of them leaves its measured
 * loop): from then on the other thread may stop calling its method, and every group method must return for
 * the iteration to end. Invocations after that point are not counted, so every counted invocation moved
 * {@value #BUFFERS_PER_INVOCATION} buffers, give or take the one per thread that straddles the end.
 *
 * <p>How to read it: JMH divides by {@value #BUFFERS_PER_INVOCATION} per invocation, so each method's score
 * is its buffers per microsecond, i.e. Mpps. The {@code device} row is the delivered rate: buffers the device
 * took, used and gave back per microsecond. The {@code driver} row is buffers added per microsecond; as at
 * most 256 can be in flight it matches the device row. (JMH's own total for the group is the sum of both,
 * twice the delivered rate; the vioplane table shows the two methods instead.) {@code alloc B/op} is the
 * group's: bytes allocated by both threads per buffer counted on either side. Both threads spin, so the
 * result needs two otherwise idle cores: on a loaded machine it measures the scheduler as much as the ring,
 * and the range says so.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(VringTwoThreadBenchmark.BUFFERS_PER_INVOCATION)
public class VringTwoThreadBenchmark {
    /** Buffers each invocation moves through its side: a multiple of every batch size measured. */
    public static final int BUFFERS_PER_INVOCATION = 32;
    /** Descriptors in the queue. */
    public static final int QUEUE_SIZE = 256;
    /** The most segments the device accepts per chain (a back-end's limit, well above the shapes used). */
    public static final int MAX_SEGMENTS_PER_CHAIN = 64;
    /** Idle attempts in a row (ring full for the driver, empty for the device) after which a thread yields. */
    public static final int IDLE_SPINS_BEFORE_YIELD = 1024;

    /** The queue both threads share, and the parameters. */
    @State(Scope.Group)
    public static class Ring {
        /** Ring layout: {@code split} or {@code packed}. */
        @Param({"split", "packed"})
        public String layout;

        /** Buffer shape: {@code 1desc} or {@code 2desc} (see {@link BufferShape}). */
        @Param({"1desc", "2desc"})
        public String shape;

        /** Buffers per driver publish and at most per device popBatch and publishUsed: 1 or 32. */
        @Param({"1", "32"})
        public int batch;

        private QueuePair queuePair;

        /** Creates the guest memory and the queue configuration. */
        @Setup
        public void setUp() {
            if (batch < 1 || BUFFERS_PER_INVOCATION % batch != 0) {
                throw new IllegalArgumentException("batch must divide " + BUFFERS_PER_INVOCATION + ": " + batch);
            }
            queuePair = QueuePair.open(layout, QUEUE_SIZE, false);
        }

        /** Unmaps the guest memory, after both threads are done. */
        @TearDown
        public void tearDown() {
            queuePair.close();
        }
    }

    /**
     * Pins the calling thread to the {@code index}th CPU it may run on, if there are at least two.
     *
     * @return the CPUs the thread was allowed before, to restore at tear-down
     */
    private static int[] pinToCpu(final int index) {
        final int[] allowed = CpuAffinity.allowedCpus();
        if (allowed.length >= 2) {
            CpuAffinity.restrictCurrentThread(allowed[index]);
        }
        return allowed;
    }

    /** What only the driver thread touches, allocated by that thread. */
    @State(Scope.Thread)
    public static class DriverThread {
        private DriverQueue driver;
        private long[][] slotSegmentGpas;
        private int[] segmentLengths;
        private int segments;
        private int[] reapedTokens;
        private int[] reapedLengths;
        private int batch;
        private int nextSlot;
        private int[] cpusBefore;

        /**
         * Pins this thread to the first allowed CPU, then creates the driver side of the ring's queue (zeroing the
         * ring areas) and the buffers' addresses.
         */
        @Setup
        public void setUp(final Ring ring) {
            cpusBefore = pinToCpu(0);
            final BufferShape bufferShape = BufferShape.ofParam(ring.shape);
            driver = ring.queuePair.newDriver();
            slotSegmentGpas = bufferShape.segmentGpas(ring.queuePair.bufferSlotGpas());
            segmentLengths = bufferShape.segmentLengths();
            segments = bufferShape.segments();
            batch = ring.batch;
            reapedTokens = new int[batch];
            reapedLengths = new int[batch];
        }

        /** Unpins this thread; fails the run if the device broke the driver's rules. */
        @TearDown
        public void tearDown() {
            CpuAffinity.restrictCurrentThread(cpusBefore);
            if (driver.deviceFault() != null) {
                throw new IllegalStateException("device fault seen by the driver: " + driver.deviceFault());
            }
        }
    }

    /** What only the device thread touches, allocated by that thread. */
    @State(Scope.Thread)
    public static class DeviceThread {
        private DeviceQueue device;
        private DescriptorChain[] chains;
        private int batch;
        private int[] cpusBefore;

        /** Pins this thread to the second allowed CPU, then creates the device side and the chains it pops into. */
        @Setup
        public void setUp(final Ring ring) {
            cpusBefore = pinToCpu(1);
            device = ring.queuePair.newDevice();
            batch = ring.batch;
            chains = DescriptorChain.batch(batch, MAX_SEGMENTS_PER_CHAIN);
        }

        /** Unpins this thread; fails the run if the driver broke the ring. */
        @TearDown
        public void tearDown() {
            CpuAffinity.restrictCurrentThread(cpusBefore);
            if (device.isBroken()) {
                throw new IllegalStateException("ring broken: " + device.violation().description());
            }
        }
    }

    /**
     * The driver thread: reaps what the device used and adds {@value #BUFFERS_PER_INVOCATION} buffers,
     * publishing every {@code batch}.
     *
     * @return buffers added (fewer only if measurement stopped meanwhile)
     */
    @Benchmark
    @Group("ring")
    @GroupThreads(1)
    public int driver(final DriverThread side, final Control control) {
        final DriverQueue driver = side.driver;
        final int batch = side.batch;
        int added = 0;
        int idleAttempts = 0;
        while (added < BUFFERS_PER_INVOCATION) {
            final int reaped = driver.reap(side.reapedTokens, side.reapedLengths, batch);
            final int wanted = Math.min(batch, BUFFERS_PER_INVOCATION - added);
            int placed = 0;
            while (placed < wanted) {
                final int slot = side.nextSlot;
                if (!driver.add(side.slotSegmentGpas[slot], side.segmentLengths, side.segments, 0, slot)) {
                    break;
                }
                side.nextSlot = slot + 1 == QUEUE_SIZE ? 0 : slot + 1;
                placed++;
            }
            if (placed > 0) {
                driver.publish();
                added += placed;
                idleAttempts = 0;
            } else if (reaped == 0) {
                if (control.stopMeasurement) {
                    break;
                }
                idleAttempts = idle(idleAttempts);
            }
        }
        return added;
    }

    /**
     * The device thread: takes, uses and publishes {@value #BUFFERS_PER_INVOCATION} chains, up to
     * {@code batch} per popBatch and publishUsed.
     *
     * @return chains used (fewer only if measurement stopped meanwhile); their readable bytes go to the blackhole
     */
    @Benchmark
    @Group("ring")
    @GroupThreads(1)
    public int device(final DeviceThread side, final Control control, final Blackhole blackhole) {
        final DeviceQueue device = side.device;
        final DescriptorChain[] chains = side.chains;
        final int batch = side.batch;
        int used = 0;
        int idleAttempts = 0;
        while (used < BUFFERS_PER_INVOCATION) {
            final int popped = device.popBatch(chains, Math.min(batch, BUFFERS_PER_INVOCATION - used));
            if (popped == 0) {
                if (control.stopMeasurement) {
                    break;
                }
                idleAttempts = idle(idleAttempts);
                continue;
            }
            idleAttempts = 0;
            long readableBytes = 0;
            for (int i = 0; i < popped; i++) {
                final DescriptorChain chain = chains[i];
                readableBytes += chain.readableBytes();
                device.addUsed(chain, 0);
            }
            device.publishUsed();
            blackhole.consume(readableBytes);
            used += popped;
        }
        return used;
    }

    /**
     * Waits a little after an attempt that did no work: a spin hint, or a yield every
     * {@value #IDLE_SPINS_BEFORE_YIELD} attempts.
     *
     * @return the idle attempts in a row so far
     */
    private static int idle(final int idleAttempts) {
        if (idleAttempts + 1 < IDLE_SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
            return idleAttempts + 1;
        }
        Thread.yield();
        return 0;
    }
}

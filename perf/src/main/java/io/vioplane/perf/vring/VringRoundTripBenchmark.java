package io.vioplane.perf.vring;

import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DriverQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * One thread plays both sides of one virtqueue of 256 descriptors in memfd guest memory, so the result is the
 * CPU cost of the ring protocol itself, without cache lines moving between cores. Per round of {@code batch}
 * buffers: the driver adds {@code batch} buffers and publishes them; the device takes them with
 * {@link DeviceQueue#popBatch} into preallocated chains (walking and checking every descriptor, resolving every
 * segment against guest memory), queues each one used with {@link DeviceQueue#addUsed} and publishes them
 * with one {@link DeviceQueue#publishUsed}; the driver reaps them. Payload bytes are never touched.
 *
 * <p>Parameters: {@code layout} split or packed; {@code shape} {@code 1desc} (one 64-byte buffer) or
 * {@code 2desc} (12-byte virtio-net header + 64-byte payload, two chained descriptors); {@code batch} 1 or 32;
 * {@code notifications} {@code none} (no EVENT_IDX, no decisions: both sides poll, as a poll-mode back-end
 * and driver do) or {@code eventIdx} (VIRTIO_F_EVENT_IDX negotiated, both sides enabled notifications at
 * setup, and each round the driver calls {@link DriverQueue#needsKick} after publishing and the device
 * {@link DeviceQueue#needsInterrupt} after publishing used: each decision is a full fence and a load).
 *
 * <p>How to read it: every invocation moves {@value #BUFFERS_PER_INVOCATION} buffers in rounds of
 * {@code batch}, and JMH divides by that, so the score is in buffers per microsecond: millions of buffers
 * per second (Mpps) that one core pushes through both sides; its inverse is the nanoseconds one buffer costs
 * the driver and the device together. {@code alloc B/op} is per buffer and covers both sides.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(VringRoundTripBenchmark.BUFFERS_PER_INVOCATION)
public class VringRoundTripBenchmark {
    /** Buffers one invocation moves, in rounds of {@code batch}: a multiple of every batch size measured. */
    public static final int BUFFERS_PER_INVOCATION = 32;
    /** Descriptors in the queue. */
    public static final int QUEUE_SIZE = 256;
    /** The most segments the device accepts per chain (a back-end's limit, well above the shapes used). */
    public static final int MAX_SEGMENTS_PER_CHAIN = 64;

    /** Ring layout: {@code split} or {@code packed}. */
    @Param({"split", "packed"})
    public String layout;

    /** Buffer shape: {@code 1desc} or {@code 2desc} (see {@link BufferShape}). */
    @Param({"1desc", "2desc"})
    public String shape;

    /** Buffers per publish, per popBatch and per publishUsed: 1 or 32. */
    @Param({"1", "32"})
    public int batch;

    /** {@code none}, or {@code eventIdx}: EVENT_IDX negotiated and both notification decisions made per round. */
    @Param({"none", "eventIdx"})
    public String notifications;

    private QueuePair queuePair;
    private DriverQueue driver;
    private DeviceQueue device;
    private DescriptorChain[] chains;
    private long[][] slotSegmentGpas;
    private int[] segmentLengths;
    private int segments;
    private int[] reapedTokens;
    private int[] reapedLengths;
    private int rounds;
    private boolean decideNotifications;
    private int nextSlot;
    private long kicks;
    private long interrupts;

    /** Builds the queue pair and every array the data path uses. */
    @Setup
    public void setUp() {
        if (batch < 1 || BUFFERS_PER_INVOCATION % batch != 0) {
            throw new IllegalArgumentException("batch must divide " + BUFFERS_PER_INVOCATION + ": " + batch);
        }
        decideNotifications = switch (notifications) {
            case "none" -> false;
            case "eventIdx" -> true;
            default -> throw new IllegalArgumentException("notifications: none or eventIdx, not " + notifications);
        };
        queuePair = QueuePair.open(layout, QUEUE_SIZE, decideNotifications);
        driver = queuePair.newDriver();
        device = queuePair.newDevice();
        if (decideNotifications) {
            driver.enableInterrupts();
            device.enableNotifications();
        }
        final BufferShape bufferShape = BufferShape.ofParam(shape);
        slotSegmentGpas = bufferShape.segmentGpas(queuePair.bufferSlotGpas());
        segmentLengths = bufferShape.segmentLengths();
        segments = bufferShape.segments();
        chains = DescriptorChain.batch(batch, MAX_SEGMENTS_PER_CHAIN);
        reapedTokens = new int[batch];
        reapedLengths = new int[batch];
        rounds = BUFFERS_PER_INVOCATION / batch;
    }

    /** Unmaps the guest memory. */
    @TearDown
    public void tearDown() {
        queuePair.close();
    }

    /**
     * @return readable bytes the device saw plus buffers reaped plus notifications decided for: consumed by
     *     JMH so that no step can be dropped
     */
    @Benchmark
    public long roundTrip() {
        long work = 0;
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < batch; i++) {
                final int slot = nextSlot;
                nextSlot = slot + 1 == QUEUE_SIZE ? 0 : slot + 1;
                if (!driver.add(slotSegmentGpas[slot], segmentLengths, segments, 0, slot)) {
                    throw new IllegalStateException("ring full: " + driver.freeDescriptors() + " descriptors free");
                }
            }
            driver.publish();
            if (decideNotifications && driver.needsKick()) {
                kicks++;
            }
            final int popped = device.popBatch(chains, batch);
            for (int i = 0; i < popped; i++) {
                final DescriptorChain chain = chains[i];
                work += chain.readableBytes();
                device.addUsed(chain, 0);
            }
            device.publishUsed();
            if (decideNotifications && device.needsInterrupt()) {
                interrupts++;
            }
            final int reaped = driver.reap(reapedTokens, reapedLengths, batch);
            if (popped != batch || reaped != batch) {
                throw new IllegalStateException("round trip lost buffers: " + batch + " added, " + popped + " popped, "
                        + reaped + " reaped; " + device.violation() + " / " + driver.deviceFault());
            }
            work += reaped;
        }
        return work + kicks + interrupts;
    }
}

package io.vioplane.perf.vring;

import io.vioplane.platform.sys.CpuAffinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.Control;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The vring benchmarks' bodies, run without JMH: they move every buffer they claim to, the ring never breaks,
 * the round trip does not allocate per buffer, the two-thread methods return when measurement stops even
 * if the other side is gone, and the pinning they do is undone. Says nothing about speed.
 */
class VringBenchmarksTest {
    private static final String BLACKHOLE_CONSENT =
            "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.";

    static Stream<Arguments> roundTripParams() {
        final List<Arguments> all = new ArrayList<>();
        for (String layout : new String[] {"split", "packed"}) {
            for (String shape : new String[] {"1desc", "2desc"}) {
                for (int batch : new int[] {1, 32}) {
                    for (String notifications : new String[] {"none", "eventIdx"}) {
                        all.add(Arguments.of(layout, shape, batch, notifications));
                    }
                }
            }
        }
        return all.stream();
    }

    private static VringRoundTripBenchmark roundTrip(final String layout, final String shape, final int batch,
                                                     final String notifications) {
        final VringRoundTripBenchmark benchmark = new VringRoundTripBenchmark();
        benchmark.layout = layout;
        benchmark.shape = shape;
        benchmark.batch = batch;
        benchmark.notifications = notifications;
        benchmark.setUp();
        return benchmark;
    }

    @ParameterizedTest(name = "{0} {1} batch={2} notifications={3}")
    @MethodSource("roundTripParams")
    void roundTripMovesEveryBufferPastTheIndexWrapWithoutAllocating(final String layout, final String shape,
                                                                     final int batch, final String notifications) {
        final VringRoundTripBenchmark benchmark = roundTrip(layout, shape, batch, notifications);
        try {
            final long perBufferAtLeast = BufferShape.ofParam(shape).bufferBytes() + 1;
            // 10,000 invocations of 32 buffers: past the 16-bit index wrap and many laps of the packed ring, and
            // long enough for the JIT to have compiled the path.
            for (int i = 0; i < 10_000; i++) {
                assertTrue(benchmark.roundTrip() >= VringRoundTripBenchmark.BUFFERS_PER_INVOCATION * perBufferAtLeast);
            }
            final com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            final long before = threads.getCurrentThreadAllocatedBytes();
            long sink = 0;
            for (int i = 0; i < 3_000; i++) {
                sink += benchmark.roundTrip();
            }
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(sink > 0);
            // Steady state is 0 bytes. The allowance covers the JVM's own one-time work on this thread (method
            // handle linkage, JIT tier changes: a few hundred bytes at most, seen once per JVM); one allocation
            // per buffer would be 96,000 of them, megabytes.
            assertTrue(allocated < 4096, allocated + " bytes allocated by 96,000 buffers' round trips");
        } finally {
            benchmark.tearDown();
        }
    }

    static Stream<Arguments> twoThreadParams() {
        final List<Arguments> all = new ArrayList<>();
        for (String layout : new String[] {"split", "packed"}) {
            for (String shape : new String[] {"1desc", "2desc"}) {
                for (int batch : new int[] {1, 32}) {
                    all.add(Arguments.of(layout, shape, batch));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} batch={2}")
    @MethodSource("twoThreadParams")
    void twoThreadMethodsMoveExactlyTheirBuffersAndStopWhenMeasurementStops(final String layout, final String shape,
                                                                            final int batch) throws Exception {
        final VringTwoThreadBenchmark benchmark = new VringTwoThreadBenchmark();
        final VringTwoThreadBenchmark.Ring ring = new VringTwoThreadBenchmark.Ring();
        ring.layout = layout;
        ring.shape = shape;
        ring.batch = batch;
        ring.setUp();
        try {
            final Control control = new Control();
            final Blackhole blackhole = new Blackhole(BLACKHOLE_CONSENT);
            final int invocations = 5_000;
            final CompletableFuture<Long> driven = CompletableFuture.supplyAsync(() -> {
                final VringTwoThreadBenchmark.DriverThread side = new VringTwoThreadBenchmark.DriverThread();
                side.setUp(ring);
                try {
                    long added = 0;
                    for (int i = 0; i < invocations; i++) {
                        added += benchmark.driver(side, control);
                    }
                    return added;
                } finally {
                    side.tearDown();
                }
            });
            final VringTwoThreadBenchmark.DeviceThread device = new VringTwoThreadBenchmark.DeviceThread();
            device.setUp(ring);
            long used = 0;
            try {
                for (int i = 0; i < invocations; i++) {
                    used += benchmark.device(device, control, blackhole);
                }
            } finally {
                device.tearDown();
            }
            final long expected = (long) invocations * VringTwoThreadBenchmark.BUFFERS_PER_INVOCATION;
            assertEquals(expected, used);
            assertEquals(expected, driven.get(60, TimeUnit.SECONDS));

            // The driver is gone and the ring is empty: once measurement stops, the device must return.
            control.stopMeasurement = true;
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertEquals(0, benchmark.device(device, control,
                    blackhole)));
        } finally {
            ring.tearDown();
        }
    }

    @Test
    void driverReturnsWhenMeasurementStopsOnAFullRing() {
        final VringTwoThreadBenchmark benchmark = new VringTwoThreadBenchmark();
        final VringTwoThreadBenchmark.Ring ring = new VringTwoThreadBenchmark.Ring();
        ring.layout = "split";
        ring.shape = "1desc";
        ring.batch = 32;
        ring.setUp();
        try {
            final VringTwoThreadBenchmark.DriverThread side = new VringTwoThreadBenchmark.DriverThread();
            final Control control = new Control();
            control.stopMeasurement = true;
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                side.setUp(ring);
                try {
                    long added = 0;
                    // No device: 256 buffers fill the ring, then invocations return with nothing added.
                    for (int i = 0; i < 10; i++) {
                        added += benchmark.driver(side, control);
                    }
                    assertEquals(VringTwoThreadBenchmark.QUEUE_SIZE, added);
                } finally {
                    side.tearDown();
                }
            });
        } finally {
            ring.tearDown();
        }
    }

    @Test
    void pinningTheCurrentThreadIsUndone() {
        final int[] allowed = CpuAffinity.allowedCpus();
        assertTrue(allowed.length >= 1);
        try {
            CpuAffinity.restrictCurrentThread(allowed[allowed.length - 1]);
            assertArrayEquals(new int[] {allowed[allowed.length - 1]}, CpuAffinity.allowedCpus());
        } finally {
            CpuAffinity.restrictCurrentThread(allowed);
        }
        assertArrayEquals(allowed, CpuAffinity.allowedCpus());
    }
}

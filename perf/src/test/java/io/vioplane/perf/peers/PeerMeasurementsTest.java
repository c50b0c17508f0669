package io.vioplane.perf.peers;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The pieces the side-by-side runs measure with: per-second samples, run medians, kernel interface counters. */
class PeerMeasurementsTest {
    @Test
    void steadyMedianDropsTheWarmUpSamples() {
        assertEquals(10.0, RunSeries.steadyMedian(new double[] {0, 1, 9, 10, 11}, 2));
        assertEquals(2.5, RunSeries.steadyMedian(new double[] {2, 3}, 2), "too few samples to drop any");
    }

    @Test
    void aSeriesReportsTheMedianAndRangeOfItsRuns() {
        final RunSeries series = new RunSeries("x", new double[] {3e6, 1e6, 2e6, 4e6});
        assertEquals(2.5e6, series.medianPps());
        assertEquals(1e6, series.minPps());
        assertEquals(4e6, series.maxPps());
    }

    @Test
    void readsTestpmdPerSecondRatesOfOneMetricAfterTheWarmUp() {
        final StringBuilder transcript = new StringBuilder();
        assertEquals(4, VhostUserComparison.WARM_UP_SAMPLES);
        for (long pps : new long[] {0, 7, 9, 11, 100, 300, 200}) {
            transcript.append("  Rx-pps:            ").append(pps).append("          Rx-bps:   1\n");
            transcript.append("  Tx-pps:            1          Tx-bps:   1\n");
        }
        assertEquals(200.0, VhostUserComparison.medianOf(transcript.toString(), "Rx-pps"));
    }

    @Test
    void refusesARunWithNoRateSampleAfterTheWarmUp() {
        final StringBuilder transcript = new StringBuilder();
        for (long pps : new long[] {0, 2_000_000, 3_600_000, 3_700_000}) {
            transcript.append("  Rx-pps:            ").append(pps).append("          Rx-bps:   1\n");
        }
        assertThrows(IllegalStateException.class, () -> VhostUserComparison.medianOf(transcript.toString(), "Rx-pps"));
    }

    @Test
    void readsTheKernelCountersOfAnInterfaceInThisProcesssNamespace() throws Exception {
        final InterfaceCounters loopback = InterfaceCounters.read(ProcessHandle.current().pid(), "lo");
        assertTrue(loopback.rxPackets() >= 0 && loopback.txPackets() >= 0 && loopback.txDropped() >= 0);
        assertThrows(IllegalStateException.class,
                () -> InterfaceCounters.read(ProcessHandle.current().pid(), "no-such-if0"));
    }

    @Test
    void readsTheDropsTheDaemonReportsAtExit() {
        assertEquals(java.util.Map.of("capture ring full", 436_563L, "port queue full", 12L), DaemonProcess.parseDrops(
                "vioplane: stopping\nvioplane: drops by reason: capture ring full 436,563; port queue full 12\n"));
        assertEquals(java.util.Map.of(), DaemonProcess.parseDrops("vioplane: drops by reason: none\n"));
    }

    @Test
    void readsFiosFiguresAndItsCpuTimePerIo() throws Exception {
        final String json;
        try (java.io.InputStream in = getClass().getResourceAsStream("/fio/randread-4k-qd1.json")) {
            json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        final BlockComparison.Result result = BlockComparison.parseFio(json, 1, BlockComparison.Location.TMPFS,
                BlockComparison.Workload.RANDREAD_4K_QD1);
        assertEquals(22046.953047, result.iops(), 1e-6);
        assertEquals(6368, result.p50Ns());
        assertEquals(292864, result.p99Ns());
        assertEquals((6.1 + 21.2) / 100 * 1000 * 1e6 / 22069, result.cpuNsPerRequest(), 1e-6);
    }

    @Test
    void blockTableGivesMediansRangesAndTheRatioOfMedians() {
        final java.util.List<BlockComparison.Result> results = new java.util.ArrayList<>();
        int run = 1;
        for (double iops : new double[] {100, 300, 200}) {
            results.add(new BlockComparison.Result("vioplane", run, BlockComparison.Location.DISK,
                    BlockComparison.Workload.SEQREAD_128K, iops, 1, 10, 20, 1000));
            results.add(new BlockComparison.Result("qemu-storage-daemon", run, BlockComparison.Location.DISK,
                    BlockComparison.Workload.SEQREAD_128K, iops / (run + 1), 1, 10, 20, 2000));
            run++;
        }
        final String text = BlockComparison.table(results, 3).text();
        assertTrue(text.contains("200.0 IOPS"), text);
        assertTrue(text.contains("100.0 .. 300.0 IOPS"), text);
        assertTrue(text.contains("3.000"), text);
        assertTrue(text.contains("2.000 .. 4.000"), text);
        assertEquals(200.0, BlockComparison.median(results.subList(0, 1), BlockComparison.Result::iops) * 2);
        assertTrue(BlockComparison.processCpuNs(ProcessHandle.current().pid()) > 0);
    }
}

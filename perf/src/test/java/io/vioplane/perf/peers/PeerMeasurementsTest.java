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
        assertEquals(5, VhostUserComparison.WARM_UP_SECONDS);
        for (long pps : new long[] {5, 7, 9, 11, 13, 100, 300, 200}) {
            transcript.append("  Rx-pps:            ").append(pps).append("          Rx-bps:   1\n");
            transcript.append("  Tx-pps:            1          Tx-bps:   1\n");
        }
        assertEquals(200.0, VhostUserComparison.medianOf(transcript.toString(), "Rx-pps"));
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
}

package io.vioplane.peers.dpdk;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The forward statistics parser over transcripts captured from real dpdk-testpmd 22.11 runs on this project's
 * machines (stored beside this class as test resources), stopped with SIGINT:
 * <ul>
 * <li>{@code testpmd-virtio-user-txonly.txt}: {@code stdbuf -oL taskset -c 1 dpdk-testpmd --lcores 0@1,1@1
 * --no-huge -m 256 --no-pci --file-prefix P --vdev net_virtio_user0,path=SOCK,queues=1,queue_size=256 --
 * --forward-mode=txonly --txpkts=64 -a --stats-period 1 --total-num-mbufs=8192}</li>
 * <li>{@code testpmd-vhost-rxonly.txt}: its peer, {@code ... --vdev net_vhost0,iface=SOCK,queues=1 --
 * --forward-mode=rxonly -a --stats-period 1 --total-num-mbufs=8192} on CPU 0, stopped after the front-end</li>
 * <li>{@code testpmd-interrupted-probe-no-port.txt}: a front-end whose back-end accepted the connection and
 * never answered, interrupted while it waited</li>
 * </ul>
 * The expected numbers are the ones in those files.
 */
class TestpmdStatsTest {
    @Test
    void readsTheFinalForwardCountersNotThePeriodicNicStatistics() throws IOException {
        final TestpmdStats stats = TestpmdStats.parse(resource("testpmd-virtio-user-txonly.txt"));

        assertEquals(new PortForwardStats(0, 0, 0, 56_995_712, 15_552_000, 72_547_712), stats.port(0));
        assertEquals(stats.port(0), stats.accumulated(), "one port: the accumulated block repeats it");
    }

    @Test
    void readsWhatTheBackEndReceived() throws IOException {
        final TestpmdStats stats = TestpmdStats.parse(resource("testpmd-vhost-rxonly.txt"));

        assertEquals(new PortForwardStats(56_995_712, 0, 56_995_712, 0, 0, 0), stats.port(0));
    }

    @Test
    void everyParsedTotalIsPacketsPlusDropped() throws IOException {
        for (String name : new String[] {"testpmd-virtio-user-txonly.txt", "testpmd-vhost-rxonly.txt"}) {
            final PortForwardStats port = TestpmdStats.parse(resource(name)).port(0);
            assertEquals(port.rxPackets() + port.rxDropped(), port.rxTotal(), name);
            assertEquals(port.txPackets() + port.txDropped(), port.txTotal(), name);
        }
    }

    @Test
    void aTestpmdWithoutPortsHasOnlyAccumulatedCounters() throws IOException {
        final TestpmdStats stats = TestpmdStats.parse(resource("testpmd-interrupted-probe-no-port.txt"));

        assertTrue(stats.ports().isEmpty());
        assertEquals(new PortForwardStats(0, 0, 0, 0, 0, 0), stats.accumulated());
        assertThrows(IllegalArgumentException.class, () -> stats.port(0));
    }

    @Test
    void theLastStopWins() throws IOException {
        final String twoStops = resource("testpmd-vhost-rxonly.txt") + resource("testpmd-virtio-user-txonly.txt");

        assertEquals(TestpmdStats.parse(resource("testpmd-virtio-user-txonly.txt")), TestpmdStats.parse(twoStops));
    }

    @Test
    void aTranscriptCutBeforeForwardingStoppedHasNoStatistics() throws IOException {
        final String transcript = resource("testpmd-virtio-user-txonly.txt");
        final String beforeStop = transcript.substring(0, transcript.indexOf("Telling cores to stop"));

        assertTrue(beforeStop.contains("TX-packets:"), "the periodic NIC statistics are there");
        assertThrows(IllegalArgumentException.class, () -> TestpmdStats.parse(beforeStop));
    }

    @Test
    void aBlockCutOffMidwayIsRejected() throws IOException {
        final String transcript = resource("testpmd-virtio-user-txonly.txt");
        final int accumulated = transcript.indexOf("Accumulated forward statistics");
        final String cut = transcript.substring(0, transcript.indexOf("TX-packets", accumulated));

        assertThrows(IllegalArgumentException.class, () -> TestpmdStats.parse(cut));
    }

    private static String resource(final String name) throws IOException {
        try (InputStream in = TestpmdStatsTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Requirements;
import io.vioplane.peers.dpdk.ForwardMode;
import io.vioplane.peers.dpdk.Testpmd;
import io.vioplane.peers.dpdk.TestpmdStats;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.NetQueueCounters;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The daemon's echo port against DPDK's virtio-user front-end (a peer nobody here wrote): testpmd in io mode
 * with --tx-first keeps a burst of frames circulating through vioplane and back, for split and packed rings,
 * mergeable receive buffers on and off, IN_ORDER on and off, and two queue pairs. The counts on both sides
 * agree (within what is in flight when testpmd stops), the negotiated features are the ones asked for, and
 * no ring is broken.
 */
@Tag("dpdk")
class VhostUserNetTestpmdTest {
    private static final byte[] MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

    @ParameterizedTest(name = "packed={0} mrg_rxbuf={1} in_order={2} queues={3}")
    @CsvSource({
        "false, true, true, 1", "false, false, true, 1", "false, true, false, 1", "false, false, false, 1",
        "true, true, true, 1", "true, false, true, 1", "true, true, false, 1", "true, false, false, 1",
        "false, true, true, 2", "true, true, false, 2"})
    void echoesTrafficBothWaysWithTestpmd(final boolean packed, final boolean mergeable, final boolean inOrder,
                                          final int queues, @TempDir final Path directory) throws Exception {
        Requirements.requireRoot();
        Requirements.requireCommand("dpdk-testpmd", "DPDK (apt-get install dpdk-dev)");
        final Path socket = directory.resolve("vu.sock");
        final long features = VirtioNetFeature.all() & ~(queues == 1 ? VirtioFeature.bit(VirtioNetFeature.MQ) : 0);
        final VhostUserNetDaemon.Config config = new VhostUserNetDaemon.Config(List.of(socket), false, 0600, queues,
                VhostUserNetDaemon.PortKind.ECHO, MAC, 1500, features, null, false, null, false, -1, null);
        try (VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config, System.err);
             Testpmd testpmd = Testpmd.builder().name("echofe")
                     .vdev("net_virtio_user0,path=" + socket + ",queues=" + queues + ",queue_size=256"
                             + (packed ? ",packed_vq=1" : "") + ",mrg_rxbuf=" + (mergeable ? 1 : 0)
                             + ",in_order=" + (inOrder ? 1 : 0))
                     .forwardMode(ForwardMode.IO).txFirst(true).queues(queues).cpu(1).build()) {
            testpmd.start();
            testpmd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
            Thread.sleep(2_000);
            final VirtioNetDevice device = daemon.devices().getFirst();
            final long negotiated = daemon.dataPlane().call(device::negotiatedFeatures);
            assertEquals(packed, VirtioFeature.has(negotiated, VirtioFeature.RING_PACKED), "packed negotiated as asked");
            assertEquals(mergeable, VirtioFeature.has(negotiated, VirtioNetFeature.MRG_RXBUF), "mrg_rxbuf as asked");
            assertEquals(inOrder, VirtioFeature.has(negotiated, VirtioFeature.IN_ORDER), "in_order as asked");
            final TestpmdStats stats = testpmd.stop();
            final long testpmdTx = stats.port(0).txPackets();
            final long testpmdRx = stats.port(0).rxPackets();
            long deviceTx = 0;
            long deviceRx = 0;
            for (int pair = 0; pair < queues; pair++) {
                final NetQueueCounters rx = device.queueCounters(2 * pair);
                final NetQueueCounters tx = device.queueCounters(2 * pair + 1);
                deviceRx += rx.packets();
                deviceTx += tx.packets();
                assertEquals(0, tx.malformedHeader(), "testpmd sends well-formed frames");
                assertEquals(0, rx.bufferTooSmall());
                assertTrue(rx.packets() > 0, "queue pair " + pair + " carried traffic");
            }
            System.out.printf("testpmd echo packed=%s mrg=%s in_order=%s queues=%d: testpmd tx=%d rx=%d,"
                    + " vioplane tx=%d rx=%d%n", packed, mergeable, inOrder, queues, testpmdTx, testpmdRx, deviceTx, deviceRx);
            final long inFlight = 256L * queues * 2;
            assertTrue(testpmdTx > 10_000 && testpmdRx > 10_000, "traffic flowed: tx=" + testpmdTx + " rx=" + testpmdRx);
            assertTrue(deviceTx <= testpmdTx && deviceTx >= testpmdTx - inFlight,
                    "vioplane took what testpmd sent: " + deviceTx + " of " + testpmdTx);
            assertTrue(deviceRx >= testpmdRx && deviceRx <= testpmdRx + inFlight,
                    "testpmd received what vioplane delivered: " + testpmdRx + " of " + deviceRx);
        }
    }
}

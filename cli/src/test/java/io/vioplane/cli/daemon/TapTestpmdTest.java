package io.vioplane.cli.daemon;

import io.vioplane.peers.dpdk.ForwardMode;
import io.vioplane.peers.dpdk.Testpmd;
import io.vioplane.peers.dpdk.TestpmdStats;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A DPDK testpmd virtio-user front-end bridged by the daemon onto a host TAP in a network namespace the test
 * creates. Frames testpmd transmits reach the kernel, whose interface counters agree with vioplane's and
 * testpmd's; frames the kernel sends into the TAP (pings to a neighbour pinned to the device's MAC) reach testpmd.
 */
@Tag("dpdk")
@Tag("netns")
class TapTestpmdTest {
    private static final byte[] MAC = {0x52, 0x54, 0x00, 0x58, 0x00, 0x02};
    private static final String MAC_TEXT = "52:54:00:58:00:02";
    private static final long FEATURES = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);

    @Test
    void framesFromTestpmdReachTheKernelAndFramesFromTheKernelReachTestpmd(@TempDir final Path directory)
            throws Exception {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("dpdk-testpmd", "DPDK (apt-get install dpdk-dev)");
        final String tap = "vpd" + ProcessHandle.current().pid() % 10000;
        final Path socket = directory.resolve("vu.sock");
        final VhostUserNetDaemon.Config config = new VhostUserNetDaemon.Config(List.of(socket), false, 0600, 1,
                VhostUserNetDaemon.PortKind.BRIDGE, MAC, 1500, FEATURES, tap, false, null, false, -1, null);
        try (Netns netns = Netns.create("tapdpdk");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config, System.err)) {
            netns.adopt(tap);
            netns.exec("sysctl", "-qw", "net.ipv6.conf." + tap + ".disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.58.0.1/24", "dev", tap);
            netns.exec("ip", "link", "set", tap, "up");
            final VirtioNetDevice device = daemon.devices().getFirst();

            final long kernelBefore = kernelCounter(netns, tap, "rx_packets") + kernelCounter(netns, tap, "rx_dropped");
            final TestpmdStats sent;
            try (Testpmd testpmd = frontEnd(socket, ForwardMode.TXONLY)) {
                testpmd.start();
                testpmd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
                Thread.sleep(1_500);
                sent = testpmd.stop();
            }
            final long taken = daemon.dataPlane().call(() -> device.queueCounters(1).packets());
            final long kernelReceived = awaitCounter(netns, tap, taken + kernelBefore) - kernelBefore;
            System.out.printf("testpmd txonly -> vioplane -> TAP: testpmd tx=%d, vioplane took %d, kernel rx=%d%n",
                    sent.port(0).txPackets(), taken, kernelReceived);
            assertTrue(sent.port(0).txPackets() > 10_000, "testpmd sent: " + sent.port(0));
            assertTrue(taken <= sent.port(0).txPackets() && taken >= sent.port(0).txPackets() - 256,
                    "vioplane took what testpmd placed in the ring (up to one ring in flight at exit): " + taken);
            assertEquals(taken, kernelReceived, "every frame vioplane took reached the kernel's TAP counters");

            netns.exec("ip", "neigh", "replace", "10.58.0.9", "lladdr", MAC_TEXT, "dev", tap, "nud", "permanent");
            try (Testpmd testpmd = frontEnd(socket, ForwardMode.RXONLY)) {
                testpmd.start();
                testpmd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
                awaitConnected(daemon);
                final long kernelSentBefore = kernelCounter(netns, tap, "tx_packets");
                netns.tryExec("ping", "-q", "-c", "300", "-i", "0.002", "-W", "1", "10.58.0.9");
                final long kernelSent = kernelCounter(netns, tap, "tx_packets") - kernelSentBefore;
                Thread.sleep(500);
                final TestpmdStats received = testpmd.stop();
                final long delivered = daemon.dataPlane().call(() -> device.queueCounters(0).packets());
                System.out.printf("kernel -> TAP -> vioplane -> testpmd: kernel tx=%d, vioplane delivered %d,"
                        + " testpmd %s%n", kernelSent, delivered, received.port(0));
                assertEquals(300, kernelSent, "the kernel sent the 300 echo requests into the TAP, nothing else");
                assertEquals(kernelSent, delivered, "vioplane delivered every one into testpmd's receive ring");
                final long polled = received.port(0).rxPackets();
                assertTrue(polled <= delivered && polled >= delivered - 3, "testpmd took them all, except that DPDK's"
                        + " virtio receive ends a burst on a used-ring cache line and leaves up to 3 for the next"
                        + " arrivals: " + polled + " of " + delivered);
            }
        }
    }

    private static Testpmd frontEnd(final Path socket, final ForwardMode mode) {
        return Testpmd.builder().name("tapfe").vdev("net_virtio_user0,path=" + socket + ",queues=1,queue_size=256")
                .forwardMode(mode).txPacketLengthBytes(64).cpu(1).build();
    }

    private static long kernelCounter(final Netns netns, final String tap, final String counter) {
        return Long.parseLong(netns.exec("cat", "/sys/class/net/" + tap + "/statistics/" + counter).trim());
    }

    /** The TAP write is synchronous, but the last batch may still be in flight on the data plane: wait briefly. */
    private static long awaitCounter(final Netns netns, final String tap, final long expected)
            throws InterruptedException {
        long seen = 0;
        for (int i = 0; i < 50; i++) {
            seen = kernelCounter(netns, tap, "rx_packets") + kernelCounter(netns, tap, "rx_dropped");
            if (seen >= expected) {
                return seen;
            }
            Thread.sleep(20);
        }
        return seen;
    }

    private static void awaitConnected(final VhostUserNetDaemon daemon) throws InterruptedException {
        final VirtioNetDevice device = daemon.devices().getFirst();
        for (int i = 0; i < 500; i++) {
            if (daemon.dataPlane().call(() -> device.negotiatedFeatures() != 0 && device.queue(0) != null)) {
                return;
            }
            Thread.sleep(10);
        }
        fail("testpmd's receive queue never started");
    }
}

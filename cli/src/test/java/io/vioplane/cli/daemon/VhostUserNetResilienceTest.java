package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Await;
import io.vioplane.platform.testing.OpenFds;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.peers.dpdk.ForwardMode;
import io.vioplane.peers.dpdk.Testpmd;
import io.vioplane.peers.dpdk.TestpmdStats;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The daemon outlives its front-ends: a hundred DPDK testpmd front-ends killed with SIGKILL in the middle of
 * traffic leave it serving the next one with no descriptor leaked; in client mode it reconnects to a front-end
 * that restarts.
 */
@Tag("dpdk")
class VhostUserNetResilienceTest {
    private static final byte[] MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    private static final long FEATURES = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);

    private static VhostUserNetDaemon.Config echo(final Path socket, final boolean client) {
        return new VhostUserNetDaemon.Config(List.of(socket), client, 0600, 1, VhostUserNetDaemon.PortKind.ECHO, MAC,
                1500, FEATURES, null, false, null, false, -1, null);
    }

    private static Testpmd frontEnd(final Path socket, final boolean server) {
        return Testpmd.builder().name("kill").vdev("net_virtio_user0,path=" + socket + ",queues=1,queue_size=256"
                        + (server ? ",server=1" : "")).forwardMode(ForwardMode.IO).txFirst(true).cpu(1).build();
    }

    private static boolean await(final BooleanSupplier condition, final long timeoutMs) {
        return Await.until(condition, timeoutMs);
    }

    private static long echoSession(final VhostUserNetDaemon daemon, final Testpmd testpmd) throws Exception {
        testpmd.start();
        testpmd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
        Thread.sleep(500);
        final TestpmdStats stats = testpmd.stop();
        return stats.port(0).rxPackets();
    }

    @Test
    void survivesAHundredFrontEndsKilledMidTrafficWithoutLeaking(@TempDir final Path directory) throws Exception {
        Requirements.requireRoot();
        Requirements.requireCommand("dpdk-testpmd", "DPDK (apt-get install dpdk-dev)");
        final Path socket = directory.resolve("vu.sock");
        try (VhostUserNetDaemon daemon = VhostUserNetDaemon.start(echo(socket, false), System.err)) {
            try (Testpmd warmUp = frontEnd(socket, false)) {
                assertTrue(echoSession(daemon, warmUp) > 0, "a first front-end gets its frames back");
            }
            assertTrue(await(() -> !daemon.connected(0), 10_000));
            final int baselineFds = OpenFds.count();
            for (int cycle = 0; cycle < 100; cycle++) {
                try (Testpmd victim = frontEnd(socket, false)) {
                    victim.start();
                    victim.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
                    final int round = cycle;
                    assertTrue(await(() -> daemon.connected(0), 10_000), "cycle " + round + " connected");
                    Thread.sleep(20 + cycle % 5 * 20);
                    ProcessHandle.of(victim.pid()).ifPresent(ProcessHandle::destroyForcibly);
                    assertTrue(await(() -> !daemon.connected(0), 10_000), "cycle " + round + ": the daemon noticed the kill");
                }
            }
            assertEquals(baselineFds, OpenFds.count(), "memfds, eventfds and sockets of 100 killed sessions were released");
            try (Testpmd survivor = frontEnd(socket, false)) {
                assertTrue(echoSession(daemon, survivor) > 0, "the daemon still serves after 100 kills");
            }
            assertTrue(daemon.devices().getFirst().queueCounters(1).packets() > 0);
        }
    }

    @Test
    void reconnectsInClientModeWhenTheFrontEndRestarts(@TempDir final Path directory) throws Exception {
        Requirements.requireRoot();
        Requirements.requireCommand("dpdk-testpmd", "DPDK (apt-get install dpdk-dev)");
        final Path socket = directory.resolve("vu.sock");
        try (VhostUserNetDaemon daemon = VhostUserNetDaemon.start(echo(socket, true), System.err)) {
            for (int restart = 0; restart < 3; restart++) {
                try (Testpmd listening = frontEnd(socket, true)) {
                    final long received = echoSession(daemon, listening);
                    assertTrue(received > 0, "front-end " + restart + " got its frames back: " + received);
                }
                assertTrue(await(() -> !daemon.connected(0), 10_000));
            }
        }
    }
}

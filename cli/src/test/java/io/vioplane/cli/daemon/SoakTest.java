package io.vioplane.cli.daemon;

import io.vioplane.perf.peers.SoakReport;
import io.vioplane.perf.peers.SoakRun;
import io.vioplane.platform.sys.CpuAffinity;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The soak ({@link SoakRun}, also {@code vioplane soak}) as CI runs it: two minutes of two DPDK testpmd front-ends
 * killed with SIGKILL and restarted every few seconds and a TAP flapped down and up, all on one bridge of the
 * vhost-user-net daemon with mixed frame sizes both ways; every frame is accounted for per port at the daemon's
 * boundary, the daemon's descriptors, threads and guest-memory mappings are back at their baseline, and it logged
 * nothing a counter does not explain. {@code -Dvioplane.soak.seconds=N} shortens or lengthens the main phase,
 * {@code -Dvioplane.soak.seed=N} repeats a run's choices.
 */
@Tag("dpdk")
@Tag("netns")
class SoakTest {
    @Test
    void killedFrontEndsAndAFlappingTapLoseNoFrameAndLeakNothing(@TempDir final Path directory) throws Exception {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("dpdk-testpmd", "DPDK (apt-get install dpdk-dev)");
        final long seconds = Long.getLong("vioplane.soak.seconds", 120);
        final long seed = Long.getLong("vioplane.soak.seed", ThreadLocalRandom.current().nextLong());
        final int[] cpus = CpuAffinity.allowedCpus();
        final SoakRun.Settings settings = new SoakRun.Settings(Path.of(System.getProperty("vioplane.root", "..")),
                directory, Duration.ofSeconds(seconds), seed, cpus[cpus.length - 1], 20_000, System.out);
        final SoakReport report = new SoakRun(settings).run();
        System.out.print(report.text());
        assertTrue(report.passed(), "soak with seed " + seed + " failed:\n" + report.text());
        assertFalse(report.balances().isEmpty());
    }
}

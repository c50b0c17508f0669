package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.perf.peers.SoakReport;
import io.vioplane.perf.peers.SoakRun;
import io.vioplane.platform.sys.CpuAffinity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * {@code vioplane soak}: the endurance run of the vhost-user-net daemon ({@link SoakRun}): two DPDK front-ends and a
 * TAP on one bridge, front-ends killed and restarted, the TAP flapped, then every frame accounted for per port and
 * the daemon's resources compared with their baseline. Exit 0 when every check passed, 1 otherwise (the report names
 * each failed check).
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Soak the vhost-user-net daemon: two dpdk-testpmd front-ends and a TAP (in a network namespace"
                + " of its own) on one bridge, mixed frame sizes both ways, front-ends killed (SIGKILL) and restarted"
                + " every few seconds, the TAP brought down and up; then every frame is accounted for per port, and"
                + " the daemon's memory, threads and descriptors must be back at their baseline.",
                "Needs root, /dev/net/tun and dpdk-testpmd. Runs the daemon from this installation."})
final class SoakCommand implements Callable<Integer> {
    @Option(names = "--minutes", paramLabel = "N", description = "Length of the main phase in minutes (default 2;"
            + " warm-up and drain add about half a minute).")
    private Integer minutes;

    @Option(names = "--seconds", paramLabel = "N", description = "Length of the main phase in seconds, for a short"
            + " look (instead of --minutes).")
    private Integer seconds;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of every random choice (default: random, printed).")
    private Long seed;

    @Option(names = "--cpu", paramLabel = "N", defaultValue = "-2",
            description = "CPU the front-ends are pinned to, one lcore each (default: the last CPU; -1: not pinned).")
    private int cpu;

    @Option(names = "--udp-rate", paramLabel = "PPS", defaultValue = "20000",
            description = "Packets per second the namespace's UDP source sends (default: ${DEFAULT-VALUE}).")
    private int udpRate;

    private Duration duration() {
        if (minutes != null && seconds != null) {
            throw UserError.usage("--seconds", "--minutes and --seconds exclude each other");
        }
        if (minutes != null && minutes < 1) {
            throw UserError.usage("--minutes", "must be at least 1, not " + minutes);
        }
        if (seconds != null && seconds < 1) {
            throw UserError.usage("--seconds", "must be at least 1, not " + seconds);
        }
        if (udpRate < 0) {
            throw UserError.usage("--udp-rate", "must not be negative: " + udpRate);
        }
        return seconds != null ? Duration.ofSeconds(seconds) : Duration.ofMinutes(minutes == null ? 2 : minutes);
    }

    @Override
    public Integer call() throws Exception {
        final Duration duration = duration();
        final int frontEndCpu = cpu == -2 ? lastCpu() : cpu;
        ArgumentChecks.checkCpu("--cpu", frontEndCpu);
        requirePeers();
        final long runSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        final Path root = Path.of(System.getProperty("vioplane.root", "."));
        if (!Files.isRegularFile(root.resolve("jvm.options"))) {
            throw UserError.failure(root.toString(), "not a vioplane installation (no jvm.options): run through"
                    + " ./vioplane");
        }
        final Path work = Files.createTempDirectory("vioplane-soak");
        System.out.println("vioplane soak: " + duration.toSeconds() + " s, seed " + runSeed + ", front-ends on CPU "
                + frontEndCpu);
        final SoakReport report;
        try {
            report = new SoakRun(new SoakRun.Settings(root, work, duration, runSeed, frontEndCpu, udpRate, System.err))
                    .run();
        } finally {
            deleteRecursively(work);
        }
        System.out.print(report.text());
        if (!report.passed()) {
            throw UserError.failure(null, report.failures().size() + " check(s) failed (first: "
                    + report.failures().getFirst().check() + "); rerun with --seed " + runSeed + " to repeat the"
                    + " choices");
        }
        return ExitCodes.OK;
    }

    private static int lastCpu() {
        final int[] allowed = CpuAffinity.allowedCpus();
        return allowed[allowed.length - 1];
    }

    private static void requirePeers() {
        if (!"0".equals(run("id", "-u"))) {
            throw UserError.failure(null, "needs root (it creates a network namespace and a TAP)");
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            throw UserError.failure("/dev/net/tun", "does not exist (no TUN/TAP support)");
        }
        if (run("sh", "-c", "command -v dpdk-testpmd").isEmpty()) {
            throw UserError.failure(null, "dpdk-testpmd is not installed (apt-get install dpdk-dev)");
        }
    }

    private static String run(final String... command) {
        try {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String output = new String(process.getInputStream().readAllBytes()).trim();
            return process.waitFor() == 0 ? output : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static void deleteRecursively(final Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            System.err.println("vioplane soak: could not remove " + directory + ": " + e.getMessage());
        }
    }
}

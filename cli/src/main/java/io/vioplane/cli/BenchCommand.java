package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.perf.BenchSuite;
import io.vioplane.perf.BenchTable;
import io.vioplane.perf.Progress;
import io.vioplane.perf.ResultTable;
import io.vioplane.perf.peers.BlockComparison;
import io.vioplane.perf.peers.EchoLatency;
import io.vioplane.perf.peers.TapComparison;
import io.vioplane.perf.peers.VhostUserComparison;
import io.vioplane.perf.vmx.ExitLoopComparison;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.RunnerException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code vioplane bench}: runs the JMH benchmarks of every data path that exists and prints one table of
 * medians, ranges and allocation per operation.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run vioplane's benchmarks: JMH, then side-by-side runs against DPDK and the echo latency run.",
                "Each table says what its figures mean and which way is better; results resting on one run or"
                        + " whose runs disagree are flagged with '!'. Progress goes to standard error."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "Short iterations (about 3 s per benchmark, one peer run each) for a first look.")
    private boolean quick;

    @Option(names = "--full", description = "Long iterations (about 16 s per benchmark, five peer runs each).")
    private boolean full;

    @Option(names = "--no-peers", description = "Skip the side-by-side runs against DPDK and the latency run.")
    private boolean noPeers;

    @Option(names = "--peers-only", description = "Only the side-by-side and latency runs, no JMH benchmarks.")
    private boolean peersOnly;

    @Option(names = "--peers", split = ",", paramLabel = "vhost-user,tap,latency,blk,exits",
            description = "Which side-by-side runs to do (default: all).")
    private List<String> peerGroups;

    /** The peer groups {@code --peers} takes, in the order they run. */
    static final List<String> PEER_GROUPS = List.of("vhost-user", "tap", "latency", "blk", "exits");

    @Option(names = {"-i", "--include"}, paramLabel = "REGEX",
            description = "Only benchmarks whose name matches (repeatable), e.g. 'platform\\..*RoundTrip'.")
    private List<String> includes;

    @Option(names = "--csv", paramLabel = "FILE",
            description = "Also write every table as CSV, one line per cell (table,row,column,value,unit,text).")
    private Path csv;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every table as JSON.")
    private Path json;

    @Option(names = "--verbose", description = "Show JMH's own progress output.")
    private boolean verbose;

    /** Refuses contradicting or unknown arguments before anything runs. */
    private void validate() {
        if (quick && full) {
            throw UserError.usage("--quick", "--quick and --full exclude each other");
        }
        if (peersOnly && noPeers) {
            throw UserError.usage("--peers-only", "--peers-only and --no-peers exclude each other");
        }
        final boolean including = includes != null && !includes.isEmpty();
        if (peersOnly && including) {
            throw UserError.usage("--include", "selects JMH benchmarks, but --peers-only runs none");
        }
        if (noPeers && peerGroups != null) {
            throw UserError.usage("--peers", "--peers and --no-peers exclude each other");
        }
        if (peerGroups != null) {
            for (String group : peerGroups) {
                if (!PEER_GROUPS.contains(group)) {
                    throw UserError.usage("--peers", "unknown group '" + group + "' (groups: "
                            + String.join(", ", PEER_GROUPS) + ")");
                }
            }
        }
        ArgumentChecks.checkParentDirectory("--csv", csv);
        ArgumentChecks.checkParentDirectory("--json", json);
        if (including && BenchSuite.matching(patterns()).isEmpty()) {
            throw UserError.usage("--include", "no benchmark matched " + String.join(" or ", includes)
                    + " (names look like platform.SyscallBenchmark.getpidDowncall)");
        }
    }

    private List<String> patterns() {
        return includes == null || includes.isEmpty() ? BenchSuite.DEFAULT_INCLUDES
                : includes.stream().map(p -> p.startsWith("io.vioplane") ? p : ".*" + p).toList();
    }

    /** @return the peer groups to run: all by default, none when -i picked JMH benchmarks and --peers was not given */
    private List<String> peerGroupsToRun() {
        if (noPeers) {
            return List.of();
        }
        if (peerGroups != null) {
            return PEER_GROUPS.stream().filter(peerGroups::contains).toList();
        }
        return includes == null || includes.isEmpty() ? PEER_GROUPS : List.of();
    }

    @Override
    public Integer call() throws Exception {
        validate();
        final Progress progress = Progress.onStandardError();
        final List<ResultTable> tables = new ArrayList<>();
        final Path work = Files.createTempDirectory("vioplane-bench");
        final Thread removeOnInterrupt = new Thread(() -> {
            ProcessHandle.current().descendants().forEach(ProcessHandle::destroy);
            deleteRecursively(work);
        }, "vioplane-bench-cleanup");
        Runtime.getRuntime().addShutdownHook(removeOnInterrupt);
        try {
            if (!peersOnly) {
                runJmh(progress, tables);
            }
            runPeers(work, progress, tables);
        } finally {
            deleteRecursively(work);
            try {
                Runtime.getRuntime().removeShutdownHook(removeOnInterrupt);
            } catch (IllegalStateException shuttingDown) {
                // interrupted (Ctrl-C): the hook is running and cleans up
            }
        }
        writeMachineReadable(tables);
        final long warnings = tables.stream().mapToLong(table -> table.warnings().size()).sum();
        if (warnings > 0) {
            System.out.println();
            System.out.println(warnings + " result(s) flagged with '!' above: one run, or runs that disagree by more"
                    + " than " + Math.round(ResultTable.DISAGREEMENT_THRESHOLD * 100) + "%; this machine is shared"
                    + " and noisy, so rerun (--full) before quoting them.");
        }
        return ExitCodes.OK;
    }

    private void runJmh(final Progress progress, final List<ResultTable> tables) {
        final List<String> patterns = patterns();
        final BenchSuite.Settings base = quick ? BenchSuite.Settings.quick(patterns)
                : full ? BenchSuite.Settings.full(patterns) : BenchSuite.Settings.standard(patterns);
        final BenchSuite.Settings settings = new BenchSuite.Settings(base.forks(), base.warmupIterations(),
                base.warmupSeconds(), base.measurementIterations(), base.measurementSeconds(), patterns, verbose);
        final int planned = BenchSuite.plannedRuns(patterns);
        System.out.println("vioplane bench: " + (quick ? "quick" : full ? "full" : "standard") + " run of " + planned
                + " JMH benchmark run(s) matching " + patterns + " (" + settings.forks() + " fork, "
                + settings.warmupIterations() + " x " + settings.warmupSeconds() + " s warm-up, "
                + settings.measurementIterations() + " x " + settings.measurementSeconds() + " s measured; about "
                + Progress.duration(planned * BenchSuite.secondsPerRun(settings)) + ")");
        final Collection<RunResult> results;
        try {
            results = BenchSuite.run(settings, verbose ? null : progress);
        } catch (RunnerException e) {
            throw UserError.failure(null, "JMH failed: " + e.getMessage(), e);
        }
        final ResultTable table = BenchTable.table(BenchTable.rows(results));
        tables.add(table);
        System.out.println();
        System.out.print(table.text());
        if (peerGroupsToRun().isEmpty() && !noPeers) {
            System.out.println();
            System.out.println("peer runs skipped: --include picks JMH benchmarks only (add --peers GROUP to run them"
                    + " too)");
        }
    }

    private void writeMachineReadable(final List<ResultTable> tables) throws IOException {
        if (csv != null) {
            Files.writeString(csv, ResultTable.csv(tables));
            System.out.println("all " + tables.size() + " table(s) written to " + csv + " (one line per cell)");
        }
        if (json != null) {
            Files.writeString(json, ResultTable.json(tables));
            System.out.println("all " + tables.size() + " table(s) written to " + json);
        }
    }

    private static void deleteRecursively(final Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            System.err.println("vioplane bench: could not remove " + directory + ": " + e.getMessage());
        }
    }

    private static boolean isRoot() {
        try {
            return "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim());
        } catch (IOException e) {
            return false;
        }
    }

    private void runPeers(final Path work, final Progress progress, final List<ResultTable> tables) throws Exception {
        final List<String> groups = peerGroupsToRun();
        if (groups.isEmpty()) {
            return;
        }
        final Path root = Path.of(System.getProperty("vioplane.root", "."));
        final int runs = quick ? 1 : full ? 5 : 3;
        final int seconds = quick ? 2 : 3;
        final boolean testpmd = VhostUserComparison.testpmdAvailable();
        if (groups.contains("vhost-user")) {
            System.out.println();
            if (testpmd) {
                System.out.println("vhost-user vs DPDK: same dpdk-testpmd virtio-user front-end (CPU 1), back-end on"
                        + " CPU 0, " + runs + " run(s) of " + seconds + " rate samples each after "
                        + VhostUserComparison.WARM_UP_SAMPLES + " of warm-up, measured at the front-end"
                        + " (testpmd --stats-period 1: a sample about every 1.5 s)");
                show(VhostUserComparison.table(new VhostUserComparison(root, work, runs, seconds).reportingTo(progress)
                        .runAll()), tables);
            } else {
                System.out.println("vhost-user vs DPDK: skipped: dpdk-testpmd is not installed (apt-get install dpdk-dev)");
            }
        }
        if (groups.contains("tap")) {
            System.out.println();
            if (!testpmd) {
                System.out.println("TAP paths: skipped: dpdk-testpmd is not installed (apt-get install dpdk-dev)");
            } else if (!isRoot()) {
                System.out.println("TAP paths: skipped: creating TAPs and network namespaces needs root");
            } else {
                System.out.println("TAP paths: each back-end in its own network namespace with its TAP, same front-end"
                        + " and cores, " + runs + " run(s) of " + seconds + " samples each after "
                        + VhostUserComparison.WARM_UP_SAMPLES + " of warm-up (1 s samples of the TAP's"
                        + " counters; from the TAP, testpmd's rate lines)");
                show(TapComparison.table(new TapComparison(root, work, runs, seconds).reportingTo(progress).runAll()),
                        tables);
            }
        }
        if (groups.contains("latency")) {
            System.out.println();
            final int samples = quick ? 20_000 : 100_000;
            System.out.println(String.format(Locale.ROOT, "echo round-trip latency: in-process virtio-net front-end"
                    + " over vhost-user (CPU 1), vioplane data plane (CPU 0), %,d frames after 20,000 warm-up",
                    samples));
            progress.begin("latency", 2, samples / 50_000.0 + 2);
            progress.step("parked (kick eventfd)");
            final EchoLatency.Result parked = EchoLatency.run(work, false, 20_000, samples);
            progress.step("busy-poll");
            final EchoLatency.Result busy = EchoLatency.run(work, true, 20_000, samples);
            progress.end();
            show(EchoLatency.table(List.of(parked, busy)), tables);
        }
        if (groups.contains("blk")) {
            System.out.println();
            System.out.println("vhost-user-blk: vioplane vs qemu-storage-daemon (both O_DIRECT + io_uring, CPU 0), same"
                    + " in-process front-end (CPU 1), image on tmpfs and on disk, " + runs + " run(s) of " + seconds
                    + " s per workload after 1 s warm-up; fio (io_uring, direct) on the same file as the machine's"
                    + " limit");
            final BlockComparison comparison = new BlockComparison(root, work, runs, seconds).reportingTo(progress);
            progress.begin("blk", comparison.steps(), comparison.secondsPerStep());
            final List<BlockComparison.Result> blk = comparison.runAll();
            progress.end();
            show(comparison.table(blk), tables);
        }
        if (groups.contains("exits")) {
            runExitLoop(root, progress, tables);
        }
    }

    private void runExitLoop(final Path root, final Progress progress, final List<ResultTable> tables)
            throws IOException, InterruptedException {
        System.out.println();
        final Path guest = root.resolve("cpu-vmx-core/target/guests/exit_loop.elf");
        final Path minivmm = root.resolve("perf/target/native/minivmm");
        if (!Files.isReadable(Path.of("/dev/kvm")) || !Files.isWritable(Path.of("/dev/kvm"))) {
            System.out.println("VM exits vs C: skipped: /dev/kvm is missing or not usable by this user");
            return;
        }
        if (!Files.isRegularFile(guest) || !Files.isExecutable(minivmm)) {
            System.out.println("VM exits vs C: skipped: " + guest + " or " + minivmm + " is not built (needs gcc;"
                    + " mvn -pl perf -am install -DskipTests)");
            return;
        }
        final int reps = quick ? 2 : full ? 7 : 5;
        final int rounds = 4;
        final int writes = quick ? 1_000 : 3_000;
        System.out.println("VM exits vs C: the exit_loop guest on vioplane's Machine and on minivmm, a minimal C VMM,"
                + " alternating; " + reps + " rep(s) after 3 warm-ups");
        progress.begin("exits", reps + 3, 3.0 * rounds * writes * 200e-6);
        final int[] step = {0};
        final ExitLoopComparison.Report report = ExitLoopComparison.measure(guest, minivmm, reps, rounds, writes,
                line -> {
                    if (line.contains("without Machine")) {
                        progress.step("rep " + ++step[0]);
                    }
                });
        progress.end();
        show(ExitLoopComparison.table(report), tables);
    }

    private static void show(final ResultTable table, final List<ResultTable> tables) {
        tables.add(table);
        System.out.print(table.text());
    }
}

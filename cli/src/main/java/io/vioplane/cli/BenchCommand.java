package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.perf.BenchSuite;
import io.vioplane.perf.BenchTable;
import io.vioplane.perf.peers.EchoLatency;
import io.vioplane.perf.peers.TapComparison;
import io.vioplane.perf.peers.VhostUserComparison;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.RunnerException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vioplane bench}: runs the JMH benchmarks of every data path that exists and prints one table of
 * medians, ranges and allocation per operation.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run vioplane's benchmarks and print a table (median, min..max, unit, bytes allocated per op).")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "Short iterations (about 3 s per benchmark, one peer run each) for a first look.")
    private boolean quick;

    @Option(names = "--full", description = "Long iterations (about 16 s per benchmark, five peer runs each).")
    private boolean full;

    @Option(names = "--no-peers", description = "Skip the side-by-side runs against DPDK and the latency run.")
    private boolean noPeers;

    @Option(names = "--peers-only", description = "Only the side-by-side and latency runs, no JMH benchmarks.")
    private boolean peersOnly;

    @Option(names = "--peers", split = ",", paramLabel = "vhost-user,tap,latency",
            description = "Which side-by-side runs to do (default: all).")
    private List<String> peerGroups;

    /** The peer groups {@code --peers} takes, in the order they run. */
    static final List<String> PEER_GROUPS = List.of("vhost-user", "tap", "latency");

    @Option(names = {"-i", "--include"}, paramLabel = "REGEX",
            description = "Only benchmarks whose name matches (repeatable), e.g. 'platform\\..*RoundTrip'.")
    private List<String> includes;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the rows as CSV.")
    private Path csv;

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
        if (peersOnly) {
            runPeers();
            return 0;
        }
        final List<String> patterns = patterns();
        final BenchSuite.Settings base = quick ? BenchSuite.Settings.quick(patterns)
                : full ? BenchSuite.Settings.full(patterns) : BenchSuite.Settings.standard(patterns);
        final BenchSuite.Settings settings = new BenchSuite.Settings(base.forks(), base.warmupIterations(),
                base.warmupSeconds(), base.measurementIterations(), base.measurementSeconds(), patterns, verbose);
        System.out.println("vioplane bench: " + (quick ? "quick" : full ? "full" : "standard") + " run of " + patterns
                + " (JMH, " + settings.forks() + " fork, " + settings.warmupIterations() + "x" + settings.warmupSeconds()
                + " s warm-up, " + settings.measurementIterations() + "x" + settings.measurementSeconds() + " s measured)");
        final Collection<RunResult> results;
        try {
            results = BenchSuite.run(settings);
        } catch (RunnerException e) {
            throw UserError.failure(null, "JMH failed: " + e.getMessage(), e);
        }
        final List<BenchTable.Row> rows = BenchTable.rows(results);
        System.out.println();
        System.out.print(BenchTable.format(rows));
        if (csv != null) {
            try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(csv))) {
                out.println("benchmark,params,median,min,max,unit,alloc_bytes_per_op");
                for (BenchTable.Row row : rows) {
                    out.printf(java.util.Locale.ROOT, "%s,%s,%f,%f,%f,%s,%f%n", row.benchmark(), row.params(), row.median(),
                            row.min(), row.max(), row.unit(), row.allocatedBytesPerOp());
                }
            }
            System.out.println("rows written to " + csv);
        }
        if (peerGroupsToRun().isEmpty() && !noPeers) {
            System.out.println("peer runs skipped: --include picks JMH benchmarks only (add --peers GROUP to run them too)");
        }
        runPeers();
        return 0;
    }

    private static boolean isRoot() {
        try {
            return "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private void runPeers() throws Exception {
        final Path work = Files.createTempDirectory("vioplane-bench");
        final Path root = Path.of(System.getProperty("vioplane.root", "."));
        final int runs = quick ? 1 : full ? 5 : 3;
        final int seconds = quick ? 2 : 3;
        final boolean testpmd = VhostUserComparison.testpmdAvailable();
        final List<String> groups = peerGroupsToRun();
        if (groups.isEmpty()) {
            return;
        }
        if (groups.contains("vhost-user")) {
            System.out.println();
            if (testpmd) {
                System.out.println("vhost-user vs DPDK: same dpdk-testpmd virtio-user front-end (CPU 1), back-end on"
                        + " CPU 0, " + runs + " run(s) of " + seconds + " s each after "
                        + VhostUserComparison.WARM_UP_SECONDS + " s warm-up, measured at the front-end"
                        + " (testpmd --stats-period 1)");
                System.out.print(VhostUserComparison.format(new VhostUserComparison(root, work, runs, seconds).runAll()));
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
                        + " and cores, " + runs + " run(s) of " + seconds + " s each after "
                        + VhostUserComparison.WARM_UP_SECONDS + " s warm-up");
                System.out.print(TapComparison.format(new TapComparison(root, work, runs, seconds).runAll()));
            }
        }
        if (groups.contains("latency")) {
            System.out.println();
            final int samples = quick ? 20_000 : 100_000;
            System.out.println("echo round-trip latency: in-process virtio-net front-end over vhost-user (CPU 1),"
                    + " vioplane data plane (CPU 0), " + samples + " frames after 20000 warm-up");
            System.out.print(EchoLatency.format(List.of(EchoLatency.run(work, false, 20_000, samples),
                    EchoLatency.run(work, true, 20_000, samples))));
        }
    }
}

package io.vioplane.cli;

import io.vioplane.perf.BenchSuite;
import io.vioplane.perf.BenchTable;
import io.vioplane.perf.peers.BlockComparison;
import io.vioplane.perf.peers.EchoLatency;
import io.vioplane.perf.peers.TapComparison;
import io.vioplane.perf.peers.VhostUserComparison;
import org.openjdk.jmh.results.RunResult;
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

    @Option(names = "--peers", split = ",", paramLabel = "vhost-user,tap,latency,blk",
            description = "Which side-by-side runs to do (default: all).")
    private List<String> peerGroups = List.of("vhost-user", "tap", "latency", "blk");

    @Option(names = {"-i", "--include"}, paramLabel = "REGEX",
            description = "Only benchmarks whose name matches (repeatable), e.g. 'platform\\..*RoundTrip'.")
    private List<String> includes;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the rows as CSV.")
    private Path csv;

    @Option(names = "--verbose", description = "Show JMH's own progress output.")
    private boolean verbose;

    @Override
    public Integer call() throws Exception {
        if (peersOnly) {
            runPeers();
            return 0;
        }
        final List<String> patterns = includes == null || includes.isEmpty() ? BenchSuite.DEFAULT_INCLUDES
                : includes.stream().map(p -> p.startsWith("io.vioplane") ? p : ".*" + p).toList();
        final BenchSuite.Settings base = quick ? BenchSuite.Settings.quick(patterns)
                : full ? BenchSuite.Settings.full(patterns) : BenchSuite.Settings.standard(patterns);
        final BenchSuite.Settings settings = new BenchSuite.Settings(base.forks(), base.warmupIterations(),
                base.warmupSeconds(), base.measurementIterations(), base.measurementSeconds(), patterns, verbose);
        System.out.println("vioplane bench: " + (quick ? "quick" : full ? "full" : "standard") + " run of " + patterns
                + " (JMH, " + settings.forks() + " fork, " + settings.warmupIterations() + "x" + settings.warmupSeconds()
                + " s warm-up, " + settings.measurementIterations() + "x" + settings.measurementSeconds() + " s measured)");
        final Collection<RunResult> results = BenchSuite.run(settings);
        if (results.isEmpty()) {
            System.err.println("vioplane bench: no benchmark matched " + patterns);
            return 2;
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
        if (!noPeers && (includes == null || includes.isEmpty())) {
            runPeers();
        }
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
        if (peerGroups.contains("vhost-user")) {
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
        if (peerGroups.contains("tap")) {
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
        if (peerGroups.contains("latency")) {
            System.out.println();
            final int samples = quick ? 20_000 : 100_000;
            System.out.println("echo round-trip latency: in-process virtio-net front-end over vhost-user (CPU 1),"
                    + " vioplane data plane (CPU 0), " + samples + " frames after 20000 warm-up");
            System.out.print(EchoLatency.format(List.of(EchoLatency.run(work, false, 20_000, samples),
                    EchoLatency.run(work, true, 20_000, samples))));
        }
        if (peerGroups.contains("blk")) {
            System.out.println();
            System.out.println("vhost-user-blk: vioplane vs qemu-storage-daemon (both O_DIRECT + io_uring, CPU 0), same"
                    + " in-process front-end (CPU 1), " + seconds + " s per run after 1 s warm-up; fio (io_uring,"
                    + " direct) on the same file as the machine's limit");
            System.out.print(BlockComparison.format(new BlockComparison(root, work, seconds).runAll()));
        }
    }
}

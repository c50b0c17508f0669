package io.vioplane.perf.peers;

import io.vioplane.peers.dpdk.ForwardMode;
import io.vioplane.peers.dpdk.Testpmd;
import io.vioplane.perf.Progress;
import io.vioplane.perf.ResultTable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * vioplane's vhost-user daemon against DPDK's own vhost back-end ({@code net_vhost}), both driven by the same
 * DPDK virtio-user front-end with 64-byte frames, back-end pinned to CPU 0 and front-end to CPU 1, each back-end
 * a separate process:
 *
 * <ul>
 *   <li>(a) front-end txonly into the back-end: vioplane's discard port vs testpmd rxonly on net_vhost;</li>
 *   <li>(b) echo: front-end flowgen (sends without pause, counts what comes back), vioplane's echo port vs testpmd io
 *       forwarding on net_vhost;</li>
 *   <li>(c) back-end to front-end: vioplane's generator port vs testpmd txonly on net_vhost, front-end rxonly.</li>
 *   <li>(d) echo as (b) over two queue pairs: the front-end's one forwarding lcore spreads its flows over both
 *       pairs, vioplane's one data-plane thread serves both (its {@code --queues 2}), and so does net_vhost's one
 *       forwarding lcore; with two CPUs there is no core for a second back-end thread, so (d) against (b) shows what
 *       a second pair costs or gains with the same CPU.</li>
 * </ul>
 *
 * Both back-ends are measured at the same place: the front-end testpmd's periodic rate lines
 * ({@code --stats-period 1}). A run lasts a number of those lines, not of seconds: testpmd prints one when its
 * main lcore, sharing a CPU with the busy forwarding lcore, gets to run, about every 1.5 s here, and each line's
 * rate is over its own interval. The first {@link #WARM_UP_SAMPLES} lines of each run are dropped as warm-up; the
 * run goes on until as many lines again as it has seconds have come. vioplane runs with its
 * data-plane thread busy-polling, as DPDK's lcore does. Each configuration runs several times; the report gives
 * the median of the per-run medians, their range, and the ratio vioplane / DPDK.
 */
public final class VhostUserComparison {
    /** One comparison. */
    public enum Scenario {
        /** (a) front-end transmits, back-end takes and drops. */
        FRONT_END_TX("a: front-end txonly -> back-end", ForwardMode.TXONLY, false, "discard", ForwardMode.RXONLY, "Tx-pps",
                1),
        /** (b) frames loop front-end -> back-end -> front-end. */
        ECHO("b: echo (front-end flowgen, back-end echo/io)", ForwardMode.FLOWGEN, false, "echo", ForwardMode.IO, "Rx-pps",
                1),
        /** (c) back-end generates, front-end receives. */
        BACK_END_TX("c: back-end generates -> front-end rxonly", ForwardMode.RXONLY, false, "generate", ForwardMode.TXONLY,
                "Rx-pps", 1),
        /** (d) as (b) over two queue pairs, each side with the same one thread as in (b). */
        ECHO_TWO_PAIRS("d: echo as b, 2 queue pairs", ForwardMode.FLOWGEN, false, "echo", ForwardMode.IO, "Rx-pps", 2);

        final String title;
        final ForwardMode frontEndMode;
        final boolean txFirst;
        final String vioplanePort;
        final ForwardMode dpdkMode;
        final String metric;
        final int queuePairs;

        Scenario(final String title, final ForwardMode frontEndMode, final boolean txFirst, final String vioplanePort,
                 final ForwardMode dpdkMode, final String metric, final int queuePairs) {
            this.queuePairs = queuePairs;
            this.title = title;
            this.frontEndMode = frontEndMode;
            this.txFirst = txFirst;
            this.vioplanePort = vioplanePort;
            this.dpdkMode = dpdkMode;
            this.metric = metric;
        }

        /** @return what the scenario measures */
        public String title() {
            return title;
        }
    }

    /** The measured packets per second of one back-end in one scenario. */
    public record Result(Scenario scenario, RunSeries series) {
    }

    private static final Pattern PPS = Pattern.compile("(Rx-pps|Tx-pps):\\s+(\\d+)");
    /**
     * Rate samples of each run not measured: testpmd's first line (always 0: it has no earlier reading), and the
     * time the back-end's JIT needs to compile its data-plane loop (DPDK needs none, so it loses nothing by this).
     * The periodic samples of the TAP runs, taken by this harness each second, drop as many.
     */
    public static final int WARM_UP_SAMPLES = 4;
    /** About how long a run takes to start its processes, for the progress estimate. */
    private static final int STARTUP_SECONDS = 3;
    private static final int BACK_END_CPU = 0;
    private static final int FRONT_END_CPU = 1;

    private final Path root;
    private final Path workDirectory;
    private final int runs;
    private final int secondsPerRun;
    private Progress progress = new Progress(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), false);

    /**
     * @param root          the project root (its jvm.options starts the vioplane daemon)
     * @param workDirectory where sockets go
     */
    public VhostUserComparison(final Path root, final Path workDirectory, final int runs, final int secondsPerRun) {
        this.root = root;
        this.workDirectory = workDirectory;
        this.runs = runs;
        this.secondsPerRun = secondsPerRun;
    }

    /** Reports each run as it starts to {@code progress}. @return this */
    public VhostUserComparison reportingTo(final Progress progress) {
        this.progress = progress;
        return this;
    }

    /** @return true if dpdk-testpmd is on the PATH */
    public static boolean testpmdAvailable() {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(directory, "dpdk-testpmd"))) {
                return true;
            }
        }
        return false;
    }

    /** Runs every scenario against both back-ends. */
    public List<Result> runAll() throws Exception {
        final List<Result> results = new ArrayList<>();
        progress.begin("vhost-user", Scenario.values().length * runs * 2,
                secondsPerRun * 3 / 2 + WARM_UP_SAMPLES * 3 / 2 + STARTUP_SECONDS);
        for (Scenario scenario : Scenario.values()) {
            final double[] vioplane = new double[runs];
            final double[] dpdk = new double[runs];
            final Map<String, Long> drops = new LinkedHashMap<>();
            for (int run = 0; run < runs; run++) {
                progress.step(scenario.title + ", vioplane, run " + (run + 1) + " of " + runs);
                vioplane[run] = runVioplane(scenario, run, drops);
                progress.step(scenario.title + ", dpdk, run " + (run + 1) + " of " + runs);
                dpdk[run] = runDpdk(scenario, run);
            }
            results.add(new Result(scenario, new RunSeries("vioplane", vioplane, drops)));
            results.add(new Result(scenario, new RunSeries("dpdk net_vhost", dpdk)));
        }
        progress.end();
        return results;
    }

    private Testpmd frontEnd(final Scenario scenario, final Path socket) {
        return Testpmd.builder().name("fe").vdev("net_virtio_user0,path=" + socket + ",queues=" + scenario.queuePairs
                        + ",queue_size=256").queues(scenario.queuePairs)
                .forwardMode(scenario.frontEndMode).txFirst(scenario.txFirst).txPacketLengthBytes(64)
                .statsPeriodSeconds(1).cpu(FRONT_END_CPU).build();
    }

    private double measure(final Scenario scenario, final Path socket) throws Exception {
        try (Testpmd frontEnd = frontEnd(scenario, socket)) {
            frontEnd.start();
            frontEnd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
            awaitRateSamples(frontEnd, scenario.metric, secondsPerRun);
            frontEnd.stop();
            return medianOf(frontEnd.transcript(), scenario.metric);
        }
    }

    /**
     * Waits until {@code frontEnd} has printed the warm-up rate lines and {@code measuredSamples} more of
     * {@code metric}.
     */
    static void awaitRateSamples(final Testpmd frontEnd, final String metric, final int measuredSamples)
            throws InterruptedException {
        final int samples = WARM_UP_SAMPLES + measuredSamples;
        frontEnd.awaitOutputLines(metric + ":", samples, TimeUnit.SECONDS.toMillis(5L * samples + 30));
    }

    /**
     * @return the median of the {@code metric} samples in a testpmd transcript, the warm-up samples dropped
     * @throws IllegalStateException if the transcript has no sample after the warm-up
     */
    static double medianOf(final String transcript, final String metric) {
        final List<Double> samples = new ArrayList<>();
        final Matcher matcher = PPS.matcher(transcript);
        while (matcher.find()) {
            if (matcher.group(1).equals(metric)) {
                samples.add(Double.parseDouble(matcher.group(2)));
            }
        }
        if (samples.size() <= WARM_UP_SAMPLES) {
            throw new IllegalStateException("testpmd printed " + samples.size() + " " + metric
                    + " lines, none after the " + WARM_UP_SAMPLES + " of warm-up");
        }
        return RunSeries.steadyMedian(samples.stream().mapToDouble(Double::doubleValue).toArray(), WARM_UP_SAMPLES);
    }

    private double runVioplane(final Scenario scenario, final int run, final Map<String, Long> drops)
            throws Exception {
        final Path socket = workDirectory.resolve("vioplane-" + scenario.ordinal() + "-" + run + ".sock");
        final DaemonProcess daemon = DaemonProcess.start(root, null, List.of("--socket-path", socket.toString(),
                "--port", scenario.vioplanePort, "--busy-poll", "--cpu", Integer.toString(BACK_END_CPU), "--queues",
                Integer.toString(scenario.queuePairs)));
        try {
            return measure(scenario, socket);
        } finally {
            daemon.close();
            daemon.dropsByReason().forEach((reason, count) -> drops.merge(reason, count, Long::sum));
        }
    }

    private double runDpdk(final Scenario scenario, final int run) throws Exception {
        final Path socket = workDirectory.resolve("dpdk-" + scenario.ordinal() + "-" + run + ".sock");
        try (Testpmd backEnd = Testpmd.builder().name("be").vdev("net_vhost0,iface=" + socket + ",queues="
                        + scenario.queuePairs).queues(scenario.queuePairs)
                .forwardMode(scenario.dpdkMode).txPacketLengthBytes(64).cpu(BACK_END_CPU).build()) {
            backEnd.start();
            backEnd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
            final double pps = measure(scenario, socket);
            backEnd.stop();
            return pps;
        }
    }

    /** @return the results as a table with ratios */
    public static String format(final List<Result> results) {
        return table(results).text();
    }

    /** @return the results as a report table: rates with units, what the ratio means, warnings on weak results */
    public static ResultTable table(final List<Result> results) {
        final ResultTable table = new ResultTable("vhost-user", "vhost-user vs DPDK (64 B frames, 1 queue pair unless the scenario says 2)")
                .note("packets per second at the front-end; median of the per-run medians; higher is better")
                .note("ratio = vioplane median / DPDK net_vhost median: above 1.00 vioplane is faster")
                .column("scenario", false).column("back-end", false).column("median", true)
                .column("range (per-run medians)", true).column("ratio", true)
                .column("drops by reason (all runs)", false);
        for (int i = 0; i + 1 < results.size(); i += 2) {
            final Result ours = results.get(i);
            final Result theirs = results.get(i + 1);
            for (Result result : List.of(ours, theirs)) {
                final RunSeries series = result.series();
                table.row(ResultTable.Cell.text(result.scenario().title()), ResultTable.Cell.text(series.label()),
                        ResultTable.Cell.number(series.medianPps() / 1e6, "Mpps"),
                        ResultTable.Cell.range(series.minPps() / 1e6, series.maxPps() / 1e6, "Mpps"),
                        result == ours ? ResultTable.Cell.number(ours.series().medianPps() / theirs.series().medianPps(),
                                "") : ResultTable.Cell.text(""),
                        ResultTable.Cell.text(series.dropsText(result == ours)));
                table.checkAgreement(result.scenario().title().substring(0, 1) + " / " + series.label(),
                        series.runMediansPps());
            }
        }
        return table;
    }
}

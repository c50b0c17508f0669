package io.vioplane.perf.peers;

import io.vioplane.peers.dpdk.ForwardMode;
import io.vioplane.peers.dpdk.Testpmd;
import io.vioplane.perf.Progress;
import io.vioplane.perf.ResultTable;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The TAP paths side by side, every back-end in its own network namespace with its TAP, 64-byte frames, one queue
 * pair, back-end on CPU 0 (busy-polling), the DPDK virtio-user front-end on CPU 1:
 *
 * <ul>
 *   <li>to TAP: front-end txonly, back-end writes into the TAP; measured as the packets per second the TAP's
 *       kernel counters show (rx_packets). vioplane's bridge vs testpmd's own bridge ({@code net_vhost} and
 *       {@code net_tap} with io forwarding).</li>
 *   <li>from TAP: a one-thread UDP source in the namespace sends to a neighbour pinned behind the TAP; the
 *       back-end reads the TAP and delivers to the front-end (rxonly), measured at the front-end. Same two
 *       back-ends. The source shares the two cores with both busy-polling processes, which bounds this row.</li>
 *   <li>NAT vs bridge on the same flow: the same UDP flow reaches the namespace's address, translated by
 *       vioplane's NAT (conntrack hit path) or bridged as it is; to-TAP metric.</li>
 *   <li>capture on vs off: vioplane's bridge with and without {@code --capture}; to-TAP metric.</li>
 * </ul>
 * Each comparison runs both sides alternately several times and reports the median of the run medians, their
 * range, and the ratio of the first side to the second.
 */
public final class TapComparison {
    /** Two series measured the same way, and what was measured. */
    public record Comparison(String title, RunSeries first, RunSeries second) {
        /** @return first / second, by medians */
        public double ratio() {
            return first.medianPps() / second.medianPps();
        }
    }

    private static final int COMPARISONS = 4;
    private static final int BACK_END_CPU = 0;
    private static final int FRONT_END_CPU = 1;
    private static final String DEVICE_MAC = "52:54:00:12:34:56";
    private static final String GATEWAY_MAC = "52:55:0a:00:02:02";

    private final Path root;
    private final Path workDirectory;
    private final int runs;
    private final int secondsPerRun;
    private int sequence;
    private Progress progress = new Progress(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), false);
    private final Map<String, Long> pendingDrops = new LinkedHashMap<>();

    /**
     * @param root          the project root (its jvm.options starts the vioplane daemon)
     * @param workDirectory where sockets and capture journals go
     */
    public TapComparison(final Path root, final Path workDirectory, final int runs, final int secondsPerRun) {
        this.root = root;
        this.workDirectory = workDirectory;
        this.runs = runs;
        this.secondsPerRun = secondsPerRun;
    }

    /** Reports each run as it starts to {@code progress}. @return this */
    public TapComparison reportingTo(final Progress progress) {
        this.progress = progress;
        return this;
    }

    /** A started back-end: something to close, and a process inside the namespace whose view of the TAP we read. */
    private record BackEnd(AutoCloseable process, long pid) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            process.close();
        }
    }

    /** One run of one side in a fresh namespace: start its back-end serving {@code socket} with TAP {@code tap}, measure. */
    private interface Measurement {
        double run(BenchNamespace namespace, Path socket, String tap) throws Exception;
    }

    /** Runs every comparison. */
    public List<Comparison> runAll() throws Exception {
        final Measurement vioplaneToTap = (ns, socket, tap) -> toTap(vioplaneBridge(ns, socket, tap), socket, tap);
        final Measurement dpdkToTap = (ns, socket, tap) -> toTap(dpdkBridge(ns, socket, tap), socket, tap);
        final List<Comparison> results = new ArrayList<>();
        progress.begin("TAP", COMPARISONS * runs * 2, secondsPerRun + VhostUserComparison.WARM_UP_SAMPLES + 5);
        results.add(compare("to TAP: front-end txonly -> back-end -> TAP (kernel rx)",
                "vioplane bridge", vioplaneToTap, "dpdk net_vhost+net_tap", dpdkToTap));
        results.add(compare("from TAP: netns UDP source -> TAP -> back-end -> front-end",
                "vioplane bridge", (ns, socket, tap) -> fromTap(vioplaneBridge(ns, socket, tap), ns, socket, tap),
                "dpdk net_vhost+net_tap", (ns, socket, tap) -> fromTap(dpdkBridge(ns, socket, tap), ns, socket, tap)));
        results.add(compare("same flow on the TAP: NAT vs bridge (kernel rx)",
                "vioplane NAT", (ns, socket, tap) -> routedToTap(vioplane(ns, socket, tap, List.of("--nat", tap,
                        "--nat-address", "10.61.0.2/24", "--nat-router", "10.61.0.1", "--static-addresses")), ns, socket,
                        tap, true),
                "vioplane bridge", (ns, socket, tap) -> routedToTap(vioplaneBridge(ns, socket, tap), ns, socket, tap,
                        false)));
        results.add(compare("to TAP, capture on vs off (kernel rx)",
                "vioplane bridge+capture", (ns, socket, tap) -> toTap(vioplane(ns, socket, tap, List.of("--tap", tap,
                        "--capture", workDirectory.resolve("capture-" + tap).toString())), socket, tap),
                "vioplane bridge", vioplaneToTap));
        progress.end();
        return results;
    }

    private Comparison compare(final String title, final String firstLabel, final Measurement first,
                               final String secondLabel, final Measurement second) throws Exception {
        final double[] a = new double[runs];
        final double[] b = new double[runs];
        final Map<String, Long> firstDrops = new LinkedHashMap<>();
        final Map<String, Long> secondDrops = new LinkedHashMap<>();
        for (int run = 0; run < runs; run++) {
            progress.step(title + ", " + firstLabel + ", run " + (run + 1) + " of " + runs);
            a[run] = inNamespace(first);
            takePendingDrops(firstDrops);
            progress.step(title + ", " + secondLabel + ", run " + (run + 1) + " of " + runs);
            b[run] = inNamespace(second);
            takePendingDrops(secondDrops);
        }
        return new Comparison(title, new RunSeries(firstLabel, a, firstDrops),
                new RunSeries(secondLabel, b, secondDrops));
    }

    private void takePendingDrops(final Map<String, Long> into) {
        pendingDrops.forEach((reason, count) -> into.merge(reason, count, Long::sum));
        pendingDrops.clear();
    }

    private double inNamespace(final Measurement measurement) throws Exception {
        final int id = ++sequence;
        try (BenchNamespace namespace = BenchNamespace.create()) {
            return measurement.run(namespace, workDirectory.resolve("tap-" + id + ".sock"), "vpbt" + id);
        }
    }

    private BackEnd vioplaneBridge(final BenchNamespace namespace, final Path socket, final String tap)
            throws Exception {
        return vioplane(namespace, socket, tap, List.of("--tap", tap));
    }

    private BackEnd vioplane(final BenchNamespace namespace, final Path socket, final String tap,
                             final List<String> portArguments) throws Exception {
        final List<String> arguments = new ArrayList<>(List.of("--socket-path", socket.toString(), "--busy-poll",
                "--cpu", Integer.toString(BACK_END_CPU), "--mac", DEVICE_MAC));
        arguments.addAll(portArguments);
        final DaemonProcess daemon = DaemonProcess.start(root, namespace.name(), arguments);
        try {
            namespace.awaitInterface(tap);
            namespace.exec("ip", "link", "set", tap, "up");
            return new BackEnd(() -> {
                daemon.close();
                daemon.dropsByReason().forEach((reason, count) -> pendingDrops.merge(reason, count, Long::sum));
            }, daemon.pid());
        } catch (Exception e) {
            daemon.close();
            throw e;
        }
    }

    private BackEnd dpdkBridge(final BenchNamespace namespace, final Path socket, final String tap) throws Exception {
        final Testpmd testpmd = Testpmd.builder().name("tapbe").networkNamespace(namespace.name())
                .vdev("net_vhost0,iface=" + socket + ",queues=1").vdev("net_tap0,iface=" + tap)
                .forwardMode(ForwardMode.IO).cpu(BACK_END_CPU).build();
        try {
            testpmd.start();
            testpmd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
            namespace.awaitInterface(tap);
            namespace.exec("ip", "link", "set", tap, "up");
            return new BackEnd(testpmd, testpmd.pid());
        } catch (Exception e) {
            testpmd.close();
            throw e;
        }
    }

    private Testpmd frontEnd(final Path socket, final ForwardMode mode, final List<String> testpmdArguments) {
        final Testpmd.Builder builder = Testpmd.builder().name("tapfe")
                .vdev("net_virtio_user0,path=" + socket + ",queues=1,queue_size=256").forwardMode(mode)
                .txPacketLengthBytes(64).statsPeriodSeconds(1).cpu(FRONT_END_CPU);
        testpmdArguments.forEach(builder::testpmdArgument);
        return builder.build();
    }

    private double toTap(final BackEnd backEnd, final Path socket, final String tap) throws Exception {
        return transmitIntoTap(backEnd, socket, tap, List.of());
    }

    /**
     * The same flow on the TAP's wire, 10.61.0.2 to the namespace's 10.61.0.1 (UDP, port 9), so the kernel does the same
     * work for both sides: through the NAT, the front-end sends from 10.0.2.15 to the gateway's MAC and the NAT
     * translates it onto 10.61.0.2; through the bridge, the front-end sends it as it appears on the wire.
     */
    private double routedToTap(final BackEnd backEnd, final BenchNamespace namespace, final Path socket,
                               final String tap, final boolean nat) throws Exception {
        final String peerMac;
        try {
            namespace.exec("ip", "addr", "add", "10.61.0.1/24", "dev", tap);
            peerMac = nat ? GATEWAY_MAC : namespace.exec("cat", "/sys/class/net/" + tap + "/address").trim();
        } catch (Exception e) {
            backEnd.close();
            throw e;
        }
        return transmitIntoTap(backEnd, socket, tap, List.of("--tx-ip=" + (nat ? "10.0.2.15" : "10.61.0.2") + ",10.61.0.1",
                "--eth-peer=0," + peerMac));
    }

    /** Front-end txonly for the run's length; the median of the TAP's per-second kernel rx counts. */
    private double transmitIntoTap(final BackEnd backEnd, final Path socket, final String tap,
                                   final List<String> frontEndArguments) throws Exception {
        try (backEnd; Testpmd frontEnd = frontEnd(socket, ForwardMode.TXONLY, frontEndArguments)) {
            frontEnd.start();
            frontEnd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
            final double[] perSecond = new double[secondsPerRun + VhostUserComparison.WARM_UP_SAMPLES];
            InterfaceCounters previous = InterfaceCounters.read(backEnd.pid(), tap);
            long previousNs = System.nanoTime();
            for (int i = 0; i < perSecond.length; i++) {
                Thread.sleep(1_000);
                final InterfaceCounters now = InterfaceCounters.read(backEnd.pid(), tap);
                final long nowNs = System.nanoTime();
                perSecond[i] = (now.rxPackets() - previous.rxPackets()) * 1e9 / (nowNs - previousNs);
                previous = now;
                previousNs = nowNs;
            }
            frontEnd.stop();
            return RunSeries.steadyMedian(perSecond, VhostUserComparison.WARM_UP_SAMPLES);
        }
    }

    /**
     * A UDP source in the namespace, pinned to the front-end's CPU, sends to 10.60.0.9, a neighbour pinned to the
     * device's MAC behind the TAP; once it is sending, the front-end (rxonly) starts and counts what arrives. Also
     * prints what the kernel offered the TAP (taken by the back-end plus dropped at the TAP's queue).
     */
    private double fromTap(final BackEnd started, final BenchNamespace namespace, final Path socket,
                           final String tap) throws Exception {
        Process source = null;
        try (BackEnd backEnd = started; Testpmd frontEnd = frontEnd(socket, ForwardMode.RXONLY, List.of())) {
            namespace.exec("ip", "addr", "add", "10.60.0.1/24", "dev", tap);
            namespace.exec("ip", "neigh", "replace", "10.60.0.9", "lladdr", DEVICE_MAC, "dev", tap, "nud",
                    "permanent");
            source = new ProcessBuilder("ip", "netns", "exec", namespace.name(), "taskset", "-c",
                    Integer.toString(FRONT_END_CPU), Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), UdpFlood.class.getName(), "10.60.0.9", "9",
                    Integer.toString(secondsPerRun + 30)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            awaitOffered(backEnd.pid(), tap);
            frontEnd.start();
            frontEnd.awaitOutput(Testpmd.FORWARDING_STARTED, 30_000);
            final InterfaceCounters before = InterfaceCounters.read(backEnd.pid(), tap);
            final long startNs = System.nanoTime();
            VhostUserComparison.awaitRateSamples(frontEnd, "Rx-pps", secondsPerRun);
            final InterfaceCounters after = InterfaceCounters.read(backEnd.pid(), tap);
            final double seconds = (System.nanoTime() - startNs) / 1e9;
            frontEnd.stop();
            final double delivered = VhostUserComparison.medianOf(frontEnd.transcript(), "Rx-pps");
            System.out.printf(Locale.ROOT, "  from TAP run %s: kernel offered %.3f Mpps (%.3f taken, rest dropped"
                            + " at the TAP queue), front-end received %.3f Mpps%n", tap,
                    (after.txPackets() + after.txDropped() - before.txPackets() - before.txDropped()) / seconds / 1e6,
                    (after.txPackets() - before.txPackets()) / seconds / 1e6, delivered / 1e6);
            return delivered;
        } finally {
            if (source != null) {
                source.destroy();
                source.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Waits until the kernel sends (or drops) frames at the TAP: the source's JVM is up and sending. */
    private static void awaitOffered(final long pid, final String tap) throws Exception {
        final InterfaceCounters start = InterfaceCounters.read(pid, tap);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            final InterfaceCounters now = InterfaceCounters.read(pid, tap);
            if (now.txPackets() + now.txDropped() > start.txPackets() + start.txDropped() + 10_000) {
                Thread.sleep(500);
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the UDP source sent nothing into " + tap + " within 20 s");
            }
            Thread.sleep(50);
        }
    }

    /** @return the comparisons as a table with ratios */
    public static String format(final List<Comparison> results) {
        return table(results).text();
    }

    /** @return the comparisons as a report table: rates with units, what the ratio means, warnings on weak results */
    public static ResultTable table(final List<Comparison> results) {
        final ResultTable table = new ResultTable("tap", "TAP paths (64 B frames, 1 queue pair)")
                .note("packets per second where each row says (kernel counters or front-end); median of the"
                        + " per-run medians; higher is better")
                .note("ratio = first side's median / second side's median: above 1.00 the first side is faster")
                .column("comparison", false).column("side", false).column("median", true)
                .column("range (per-run medians)", true).column("ratio", true)
                .column("drops by reason (all runs)", false);
        for (Comparison comparison : results) {
            for (RunSeries series : List.of(comparison.first(), comparison.second())) {
                table.row(ResultTable.Cell.text(comparison.title()), ResultTable.Cell.text(series.label()),
                        ResultTable.Cell.number(series.medianPps() / 1e6, "Mpps"),
                        ResultTable.Cell.range(series.minPps() / 1e6, series.maxPps() / 1e6, "Mpps"),
                        series == comparison.first() ? ResultTable.Cell.number(comparison.ratio(), "")
                                : ResultTable.Cell.text(""),
                        ResultTable.Cell.text(series.dropsText(series.label().startsWith("vioplane"))));
                table.checkAgreement(comparison.title() + " / " + series.label(), series.runMediansPps());
            }
        }
        return table;
    }
}

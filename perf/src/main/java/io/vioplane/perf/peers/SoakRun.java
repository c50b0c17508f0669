package io.vioplane.perf.peers;

import io.vioplane.peers.dpdk.ForwardMode;
import io.vioplane.peers.dpdk.PortForwardStats;
import io.vioplane.peers.dpdk.Testpmd;
import io.vioplane.peers.dpdk.TestpmdStats;
import io.vioplane.platform.runtime.CountersFileReader;
import io.vioplane.platform.runtime.RunDirectory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The soak of {@code vioplane vhost-user-net}: one bridge joining two DPDK testpmd front-ends (virtio-user over
 * vhost-user) and a TAP in a network namespace of its own, traffic of mixed frame sizes both ways for the run's
 * duration, the front-ends killed (SIGKILL, by process id) or stopped and started again every few seconds, and the
 * TAP brought down and up; then the books are balanced. Run by {@code vioplane soak} and by the CI's soak test.
 *
 * <h2>What runs</h2>
 * <ul>
 *   <li>The daemon as a separate process ({@code vioplane vhost-user-net --port bridge}, two {@code --socket-path},
 *       {@code --tap}) inside the namespace, where it creates the TAP; the namespace holds the host side of the link
 *       (10.77.0.1/24, neighbours 10.77.0.10 and .11 pinned to the two guests' MACs).</li>
 *   <li>Per socket a lane of front-end sessions, one testpmd at a time on one lcore ({@code --no-huge}, the
 *       {@link Testpmd} defaults, and {@code --no-flush-rx}: testpmd otherwise reads and discards, uncounted,
 *       what waits in its receive ring before forwarding starts): txonly (never reads its receive ring) or flowgen
 *       (sends and receives) with a
 *       frame size from {@link #FRAME_SIZES} (2000 bytes is above the MTU: dropped by the bridge, counted), toward
 *       the other guest, the TAP, an unknown unicast address (flooded) or broadcast, or rxonly; each session lasts
 *       2-6 s and ends by SIGKILL, or one time in four by SIGINT (testpmd then prints its statistics).</li>
 *   <li>In the namespace, {@link SoakUdpSource}: UDP of mixed sizes (fragments above the MTU) to both guests at a
 *       paced rate; the kernel adds ICMP errors and ARP of its own.</li>
 *   <li>The TAP set down for 0.5-2 s every 3-7 s (the daemon's writes are then refused and counted).</li>
 * </ul>
 * A warm-up (one session per lane, one TAP flap) comes first; then, with no front-end connected, the daemon's
 * resources are read as the baseline. After the run's time, the lanes and the source stop, an rxonly front-end on
 * each socket takes whatever waits for it, and once nothing moves any more the counters are read.
 *
 * <h2>What "accounted for" means</h2>
 * The accounting is per port at the daemon's boundary: the daemon answers for every frame it took from a front-end's
 * transmit ring or read from the TAP, and for every frame its bridge sent toward a port. A frame a front-end placed
 * in its ring that the daemon had not taken when the front-end was killed, or one the daemon had delivered into a
 * killed front-end's receive ring that it had not read, is lost by the front-end, not by the daemon: it is outside
 * the books (and for sessions that end by SIGINT the front-end's own statistics bound it: up to a ring's worth
 * unread when it stopped, and up to a ring's worth more that DPDK's virtio PMD discards uncounted when it starts the
 * port, since {@code virtio_dev_start} flushes the used receive entries the device filled between DRIVER_OK and the
 * start, whatever {@code --no-flush-rx} says).
 * The balances, exact, over the daemon's whole life:
 * <ul>
 *   <li>guest port, inbound: every frame the device took was handed to the bridge (its transmit packets plus those
 *       the bridge refused) or dropped by a counted reason, and the bridge saw exactly those;</li>
 *   <li>guest port, outbound: {@code bridge out = delivered into the front-end's receive ring + receive drops by
 *       reason} (nothing waits in the port's queue once the drain front-end is idle);</li>
 *   <li>TAP, inbound: the kernel's {@code tx_packets} on the TAP = frames the bridge took from it + read errors;</li>
 *   <li>TAP, outbound: {@code bridge out = kernel rx_packets + writes refused (TAP down)}, and the kernel's
 *       {@code rx_dropped} equals those refused writes;</li>
 *   <li>the bridge: every frame in is dropped on the way in, sent to one port or flooded to the two others, and
 *       every frame offered to a port is sent or dropped there ({@code BridgePortCounters});</li>
 *   <li>the drops by reason the daemon prints when it stops equal those in its counters file.</li>
 * </ul>
 * Besides: every killed front-end's end was noticed; the daemon's open descriptors (but for jar files its class
 * loader opens once), its threads (but for the JVM's self-sizing compiler and GC pools) and its shared mappings
 * (guest memory) are back at the baseline, its heap in use after a full GC within {@link #HEAP_GROWTH_KB} of it, the
 * native memory it allocated (NMT) within {@link #NATIVE_GROWTH_KB}, and its resident memory within
 * {@link #RSS_GROWTH_KB}; every line it logged is a lifecycle line or is explained by a counter (link down lines =
 * the TAP's "went down" count, connections = sessions), every error it recorded is explained by a counter, and it
 * exits 0 on SIGTERM.
 */
public final class SoakRun {
    /** testpmd frame sizes ({@code --txpkts}, Ethernet header included, CRC not): 2000 exceeds the 1500 MTU. */
    public static final int[] FRAME_SIZES = {64, 128, 256, 512, 1024, 1280, 1514, 2000};
    /** Heap growth after a full GC that still counts as "back at the baseline": class data and JIT caches settle. */
    public static final long HEAP_GROWTH_KB = 16 * 1024;
    /** Native memory the daemon allocated itself (NMT "Other": FFM arenas, direct buffers) growth tolerated. */
    public static final long NATIVE_GROWTH_KB = 1024;
    /**
     * Resident memory growth (after a full GC) tolerated: the JIT's code cache, metaspace and the C library's malloc
     * arenas grow during the first minutes whatever the load (measured: +23-26 MiB after 25 s and after 60 s alike);
     * the heap and the program's native memory are checked tightly instead.
     */
    public static final long RSS_GROWTH_KB = 96 * 1024;
    private static final int QUEUE_SIZE = 256;
    /**
     * Frames a SIGINT session may leave unread: the ring's worth DPDK's {@code virtio_dev_start} flushes uncounted at
     * the port's start (CI saw exactly 512 once) plus the ring's worth waiting when forwarding stops.
     */
    private static final int UNREAD_BOUND = 2 * QUEUE_SIZE;
    private static final String NETWORK = "10.77.0.";
    private static final String TAP_MAC = "02:5a:00:00:00:fe";
    private static final String UNKNOWN_MAC = "02:5a:00:00:00:99";
    private static final String BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";
    private static final String[] GUEST_MACS = {"52:54:00:5a:00:01", "52:54:00:5a:00:02"};
    private static final long AWAIT_MS = 30_000;
    private static final Pattern TIMESTAMP = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d+ ");

    /**
     * How to run.
     *
     * @param root          the project root (its {@code jvm.options} starts the daemon)
     * @param workDirectory where the sockets go
     * @param duration      the main phase (warm-up and drain come on top: about 30 s)
     * @param seed          seeds every random choice (modes, sizes, destinations, durations, flaps)
     * @param frontEndCpu   the CPU both front-ends are pinned to (one lcore each), or -1 for none
     * @param udpRate       packets per second the namespace's UDP source sends
     * @param progress      where a line per event goes
     */
    public record Settings(Path root, Path workDirectory, Duration duration, long seed, int frontEndCpu, int udpRate,
                           PrintStream progress) {
    }

    /** One front-end session's end, with what testpmd reported when it ended by SIGINT. */
    private record Session(int lane, int number, String description, boolean killed, PortForwardStats stats,
                           long taken, long delivered) {
    }

    private final Settings settings;
    private final Random random;
    private final SoakReport report = new SoakReport();
    private final List<Session> sessions = Collections.synchronizedList(new ArrayList<>());
    private final Object countersLock = new Object();
    private BenchNamespace namespace;
    private DaemonProcess daemon;
    private String tap;
    private Path[] sockets;
    private volatile boolean stopping;
    private int flaps;
    private long wentDown;
    private Map<String, Long> finalDrops = Map.of();

    /** @param settings how to run */
    public SoakRun(final Settings settings) {
        this.settings = settings;
        this.random = new Random(settings.seed());
    }

    /** Runs the soak; failures are in the report, not thrown (an exception means the soak could not run). */
    public SoakReport run() throws Exception {
        final long startNs = System.nanoTime();
        report.setting("duration", settings.duration().toSeconds() + " s main phase, seed " + settings.seed());
        tap = "vpsoak" + ProcessHandle.current().pid() % 100_000;
        sockets = new Path[] {settings.workDirectory().resolve("soak-vm0.sock"),
                settings.workDirectory().resolve("soak-vm1.sock")};
        try (BenchNamespace ns = BenchNamespace.create()) {
            namespace = ns;
            daemon = DaemonProcess.start(settings.root(), ns.name(), List.of("-XX:NativeMemoryTracking=summary"),
                    "vhost-user-net", List.of("--port", "bridge", "--socket-path",
                    sockets[0].toString(), "--socket-path", sockets[1].toString(), "--tap", tap, "--mac",
                    GUEST_MACS[0]));
            Process source = null;
            try {
                ns.awaitInterface(tap);
                ns.exec("ip", "link", "set", tap, "address", TAP_MAC);
                ns.exec("ip", "addr", "add", NETWORK + "1/24", "dev", tap);
                final InterfaceCounters kernelStart = InterfaceCounters.read(daemon.pid(), tap);
                tapUp();
                source = startUdpSource();
                progress("warm-up: one session per front-end, one TAP flap");
                runLanes(Duration.ZERO);
                flap();
                final ProcessResources baseline = ProcessResources.read(daemon.pid(), true);
                progress("baseline: " + describe(baseline));
                progress("main phase: " + settings.duration().toSeconds() + " s");
                runLanes(settings.duration());
                stopUdpSource(source);
                source = null;
                tapUp();
                final Map<String, Long> counters = drain();
                final InterfaceCounters kernelEnd = InterfaceCounters.read(daemon.pid(), tap);
                final ProcessResources end = ProcessResources.read(daemon.pid(), true);
                progress("end: " + describe(end));
                balance(counters, kernelStart, kernelEnd);
                checkSessions(counters);
                checkResources(baseline, end);
                checkErrors(counters);
            } finally {
                if (source != null) {
                    source.destroyForcibly();
                }
                daemon.close();
            }
            checkExit();
        }
        report.setting("wall time", Math.round((System.nanoTime() - startNs) / 1e9) + " s");
        return report;
    }

    private void progress(final String line) {
        settings.progress().println("vioplane soak: " + line);
    }

    private void tapUp() throws IOException, InterruptedException {
        namespace.exec("ip", "link", "set", tap, "up");
        for (int i = 0; i < 2; i++) {
            namespace.exec("ip", "neigh", "replace", NETWORK + (10 + i), "lladdr", GUEST_MACS[i], "dev", tap, "nud",
                    "permanent");
        }
    }

    private void flap() throws IOException, InterruptedException {
        namespace.exec("ip", "link", "set", tap, "down");
        Thread.sleep(500 + random.nextInt(1500));
        tapUp();
        flaps++;
    }

    private Process startUdpSource() throws IOException {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace.name(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), SoakUdpSource.class.getName(), "9",
                Integer.toString(settings.udpRate()), "18,100,472,972,1472,1800", NETWORK + "10", NETWORK + "11"));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private void stopUdpSource(final Process source) throws IOException, InterruptedException {
        source.getOutputStream().close();
        final String output = new String(source.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        source.waitFor(30, TimeUnit.SECONDS);
        report.setting("namespace UDP source", output.isEmpty() ? "(no report)" : output);
    }

    /**
     * Runs both lanes and the TAP flapper for {@code duration}; a zero duration runs exactly one short killed
     * session per lane (the warm-up).
     */
    private void runLanes(final Duration duration) throws Exception {
        stopping = false;
        final boolean warmUp = duration.isZero();
        final long endNs = System.nanoTime() + duration.toNanos();
        final List<Thread> threads = new ArrayList<>();
        for (int lane = 0; lane < 2; lane++) {
            final int index = lane;
            final Random laneRandom = new Random(random.nextLong());
            threads.add(Thread.ofPlatform().name("soak-lane-" + lane).start(() -> lane(index, laneRandom, warmUp,
                    endNs)));
        }
        if (!warmUp) {
            final Random flapRandom = new Random(random.nextLong());
            while (System.nanoTime() < endNs) {
                Thread.sleep(Math.min(3_000 + flapRandom.nextInt(4_000),
                        Math.max(0, TimeUnit.NANOSECONDS.toMillis(endNs - System.nanoTime()))));
                if (System.nanoTime() < endNs) {
                    flap();
                }
            }
        }
        stopping = true;
        for (Thread thread : threads) {
            thread.join();
        }
    }

    private void lane(final int index, final Random laneRandom, final boolean warmUp, final long endNs) {
        int failuresInARow = 0;
        do {
            try {
                session(index, laneRandom, warmUp, endNs);
                failuresInARow = 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                report.fail("front-end " + index, "a session failed: " + e.getMessage());
                if (++failuresInARow == 3) {
                    return;
                }
            }
        } while (!warmUp && System.nanoTime() < endNs);
    }

    private void session(final int lane, final Random r, final boolean warmUp, final long endNs) throws Exception {
        final ForwardMode mode = warmUp ? ForwardMode.TXONLY
                : r.nextInt(5) == 0 ? ForwardMode.RXONLY : r.nextBoolean() ? ForwardMode.TXONLY : ForwardMode.FLOWGEN;
        final int size = FRAME_SIZES[r.nextInt(FRAME_SIZES.length)];
        final int target = r.nextInt(4);
        final String destination = switch (target) {
            case 0 -> GUEST_MACS[1 - lane];
            case 1 -> TAP_MAC;
            case 2 -> UNKNOWN_MAC;
            default -> BROADCAST_MAC;
        };
        final String destinationIp = target == 0 ? NETWORK + (11 - lane) : NETWORK + "1";
        final boolean graceful = !warmUp && r.nextInt(4) == 0;
        final long runMs = warmUp ? 1_500 : 2_000 + r.nextInt(4_000);
        final Testpmd.Builder builder = Testpmd.builder().name("soak" + lane)
                .vdev("net_virtio_user0,path=" + sockets[lane] + ",queues=1,queue_size=" + QUEUE_SIZE + ",mac="
                        + GUEST_MACS[lane]).forwardMode(mode).cpu(settings.frontEndCpu())
                .testpmdArgument("--no-flush-rx");
        if (mode != ForwardMode.RXONLY) {
            builder.txPacketLengthBytes(size).testpmdArgument("--eth-peer=0," + destination)
                    .testpmdArgument("--tx-ip=" + NETWORK + (10 + lane) + "," + destinationIp);
        }
        final String description = mode.argument() + (mode == ForwardMode.RXONLY ? ""
                : " " + size + " B to " + (target == 0 ? "vm" + (1 - lane) : target == 1 ? "the TAP"
                        : target == 2 ? "an unknown MAC" : "broadcast")) + ", " + runMs + " ms, "
                + (graceful ? "SIGINT" : "SIGKILL");
        final int disconnectsBefore = count(lane, "front-end disconnected");
        final int connectsBefore = count(lane, "front-end connected");
        final Map<String, Long> before = counters();
        PortForwardStats stats = null;
        try (Testpmd frontEnd = builder.build()) {
            frontEnd.start();
            frontEnd.awaitOutput(Testpmd.FORWARDING_STARTED, AWAIT_MS);
            final long untilNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(runMs);
            while (System.nanoTime() < untilNs && !(stopping && !warmUp)) {
                Thread.sleep(50);
            }
            if (graceful) {
                stats = frontEnd.stop().port(0);
            } else {
                ProcessHandle.of(frontEnd.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        } finally {
            if (count(lane, "front-end connected") > connectsBefore) {
                awaitLog(lane, "front-end disconnected", disconnectsBefore + 1);
            }
        }
        final Map<String, Long> after = counters();
        final String socket = sockets[lane].toString();
        final long taken = taken(after, socket) - taken(before, socket);
        final long delivered = value(after, "net[" + socket + "] q0 rx packets")
                - value(before, "net[" + socket + "] q0 rx packets");
        final Session session = new Session(lane, sessions.size() + 1, description, !graceful, stats, taken,
                delivered);
        sessions.add(session);
        progress("vm" + lane + " session: " + description + ": daemon took " + taken + ", delivered " + delivered
                + (stats == null ? "" : "; testpmd tx " + stats.txPackets() + ", rx " + stats.rxPackets()));
    }

    /** @return frames the device of {@code socket} took from its transmit ring: handed on or dropped by reason */
    private static long taken(final Map<String, Long> counters, final String socket) {
        final String prefix = "net[" + socket + "] q1 tx ";
        return value(counters, prefix + "packets") + sumStarting(counters, prefix + "drops: ")
                + value(counters, prefix + "discarded: queue disabled");
    }

    private int count(final int lane, final String event) throws IOException {
        final String device = "net[" + sockets[lane] + "], port=vm" + lane + "]: " + event;
        int count = 0;
        for (String line : daemon.log().lines().toList()) {
            if (line.contains(device)) {
                count++;
            }
        }
        return count;
    }

    private void awaitLog(final int lane, final String event, final int atLeast) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        while (count(lane, event) < atLeast) {
            if (System.nanoTime() > deadline || !daemon.isAlive()) {
                report.fail("front-end ends noticed", "the daemon did not log '" + event + "' for vm" + lane
                        + " within " + AWAIT_MS + " ms");
                return;
            }
            Thread.sleep(20);
        }
    }

    /** @return every counter of the daemon, by label (the counters file, as {@code vioplane stat} reads it) */
    private Map<String, Long> counters() {
        synchronized (countersLock) {
            try (CountersFileReader reader = CountersFileReader.open(countersFile())) {
                final Map<String, Long> values = new LinkedHashMap<>();
                for (CountersFileReader.Counter counter : reader.counters()) {
                    values.merge(counter.label(), counter.value(), Long::sum);
                }
                return values;
            }
        }
    }

    private List<CountersFileReader.ErrorRecord> recordedErrors() {
        try (CountersFileReader reader = CountersFileReader.open(countersFile())) {
            return reader.errors();
        }
    }

    private Path countersFile() {
        return RunDirectory.resolve().resolve(daemon.pid() + ".counters");
    }

    private static long value(final Map<String, Long> counters, final String label) {
        return counters.getOrDefault(label, 0L);
    }

    private static long sumStarting(final Map<String, Long> counters, final String prefix) {
        long sum = 0;
        for (Map.Entry<String, Long> counter : counters.entrySet()) {
            if (counter.getKey().startsWith(prefix)) {
                sum += counter.getValue();
            }
        }
        return sum;
    }

    /**
     * Starts an rxonly front-end on each socket, waits until nothing moves (every counter the balances use
     * unchanged for two seconds), reads the counters, and stops the front-ends.
     */
    private Map<String, Long> drain() throws Exception {
        progress("drain: an rxonly front-end on each socket until nothing moves");
        final List<Testpmd> drains = new ArrayList<>();
        final int[] disconnectsBefore = new int[2];
        final Map<String, Long> before = counters();
        try {
            for (int lane = 0; lane < 2; lane++) {
                disconnectsBefore[lane] = count(lane, "front-end disconnected");
                final Testpmd drain = Testpmd.builder().name("drain" + lane).vdev("net_virtio_user0,path="
                                + sockets[lane] + ",queues=1,queue_size=" + QUEUE_SIZE + ",mac=" + GUEST_MACS[lane])
                        .forwardMode(ForwardMode.RXONLY).cpu(settings.frontEndCpu()).testpmdArgument("--no-flush-rx")
                        .build();
                drains.add(drain);
                drain.start();
                drain.awaitOutput(Testpmd.FORWARDING_STARTED, AWAIT_MS);
            }
            Map<String, Long> previous = counters();
            int quiet = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (quiet < 4) {
                Thread.sleep(500);
                final Map<String, Long> now = counters();
                quiet = now.equals(previous) ? quiet + 1 : 0;
                previous = now;
                if (System.nanoTime() > deadline) {
                    report.fail("drain", "traffic did not stop within 60 s of the sources stopping");
                    break;
                }
            }
            final Map<String, Long> settled = previous;
            for (int lane = 0; lane < 2; lane++) {
                final PortForwardStats stats = drains.get(lane).stop().port(0);
                final String socket = sockets[lane].toString();
                final long delivered = value(settled, "net[" + socket + "] q0 rx packets")
                        - value(before, "net[" + socket + "] q0 rx packets");
                sessions.add(new Session(lane, sessions.size() + 1, "rxonly drain", false, stats,
                        taken(settled, socket) - taken(before, socket), delivered));
                awaitLog(lane, "front-end disconnected", disconnectsBefore[lane] + 1);
            }
            return settled;
        } finally {
            drains.forEach(Testpmd::close);
        }
    }

    private void balance(final Map<String, Long> c, final InterfaceCounters kernelStart,
                         final InterfaceCounters kernelEnd) {
        final List<String> ports = new ArrayList<>();
        long offered = 0;
        long decided = 0;
        for (int lane = 0; lane < 2; lane++) {
            final String socket = sockets[lane].toString();
            final String port = "bridge[br0] port vm" + lane + " ";
            ports.add(port);
            final String tx = "net[" + socket + "] q1 tx ";
            final String rx = "net[" + socket + "] q0 rx ";
            final long taken = taken(c, socket);
            final long handedOn = value(c, tx + "packets") + value(c, tx + "drops: port refused");
            report.balance("vm" + lane + " in: front-end -> daemon -> bridge", value(c, port + "in packets"),
                    "bridge in " + value(c, port + "in packets") + " = device tx packets " + value(c, tx + "packets")
                            + " + refused by the bridge " + value(c, tx + "drops: port refused") + " (the device"
                            + " took " + taken + ", dropping " + (taken - handedOn) + " itself"
                            + dropDetail(c, tx + "drops: ", tx + "drops: port refused") + ")",
                    value(c, port + "in packets") == handedOn);
            final long out = value(c, port + "out packets");
            final long delivered = value(c, rx + "packets");
            final long rxDrops = sumStarting(c, rx + "drops: ");
            report.balance("vm" + lane + " out: daemon -> front-end", out,
                    "bridge out " + out + " = delivered into the front-end's ring " + delivered + " + dropped "
                            + rxDrops + dropDetail(c, rx + "drops: ", null),
                    out == delivered + rxDrops);
        }
        final String tapPort = "bridge[br0] port tap:" + tap + " ";
        ports.add(tapPort);
        final String link = "tap[" + tap + "] ";
        final long kernelSent = kernelEnd.txPackets() - kernelStart.txPackets();
        final long readErrors = value(c, link + "read errors");
        report.balance("TAP in: kernel -> daemon", kernelSent, "kernel tx_packets " + kernelSent + " = bridge in "
                        + value(c, tapPort + "in packets") + " + read errors " + readErrors + " (the kernel dropped "
                        + (kernelEnd.txDropped() - kernelStart.txDropped()) + " more before the daemon read them)",
                kernelSent == value(c, tapPort + "in packets") + readErrors);
        final long kernelReceived = kernelEnd.rxPackets() - kernelStart.rxPackets();
        final long refused = value(c, link + "drops: TAP down");
        final long tapOut = value(c, tapPort + "out packets");
        report.balance("TAP out: daemon -> kernel", tapOut, "bridge out " + tapOut + " = kernel rx_packets "
                + kernelReceived + " + writes refused while down " + refused, tapOut == kernelReceived + refused);
        final long kernelRefused = kernelEnd.rxDropped() - kernelStart.rxDropped();
        report.balance("TAP out: refused writes", refused, "daemon 'TAP down' " + refused + " = kernel rx_dropped "
                + kernelRefused, refused == kernelRefused);
        long flooded = 0;
        for (String port : ports) {
            final long in = value(c, port + "in packets");
            final long ingressDrops = value(c, port + "drops: frame shorter than an Ethernet header")
                    + value(c, port + "drops: multicast source MAC")
                    + value(c, port + "drops: guest sent a spoofed source MAC")
                    + value(c, port + "drops: destination on the port the frame came from");
            final long floodedIn = value(c, port + "in flooded to every other port");
            flooded += floodedIn;
            offered += in - ingressDrops - floodedIn + floodedIn * (ports.size() - 1);
            decided += value(c, port + "out packets") + value(c, port + "drops: frame above the port MTU")
                    + value(c, port + "drops: port queue full");
            if (in == 0 || value(c, port + "out packets") == 0) {
                report.fail("traffic", port.trim() + " carried no frames one way: in " + in + ", out "
                        + value(c, port + "out packets"));
            }
        }
        report.balance("bridge: offered = sent + dropped at the port", offered, "offered to ports " + offered
                + " (unicast + " + flooded + " flooded x " + (ports.size() - 1) + ") = sent or dropped there "
                + decided, offered == decided);
        finalDrops = dropsByReason(c);
        wentDown = value(c, link + "went down");
        report.setting("drops by reason", finalDrops.toString());
        report.setting("TAP flaps", flaps + " (daemon counted 'went down' " + value(c, link + "went down") + ")");
    }

    private static String dropDetail(final Map<String, Long> c, final String prefix, final String except) {
        final StringBuilder detail = new StringBuilder();
        for (Map.Entry<String, Long> counter : c.entrySet()) {
            if (counter.getKey().startsWith(prefix) && counter.getValue() != 0 && !counter.getKey().equals(except)) {
                detail.append(detail.isEmpty() ? " (" : ", ").append(counter.getKey().substring(prefix.length()))
                        .append(' ').append(counter.getValue());
            }
        }
        return detail.isEmpty() ? "" : detail.append(')').toString();
    }

    /** @return the non-zero drops summed by reason ({@code "... drops: REASON"}), as the daemon prints at exit */
    static Map<String, Long> dropsByReason(final Map<String, Long> counters) {
        final Map<String, Long> drops = new LinkedHashMap<>();
        counters.forEach((label, value) -> {
            final int at = label.indexOf("drops: ");
            if (at >= 0 && value != 0) {
                drops.merge(label.substring(at + "drops: ".length()), value, Long::sum);
            }
        });
        return drops;
    }

    private void checkSessions(final Map<String, Long> counters) throws IOException {
        int killed = 0;
        int stopped = 0;
        for (Session s : List.copyOf(sessions)) {
            if (s.killed()) {
                killed++;
                continue;
            }
            stopped++;
            final PortForwardStats stats = s.stats();
            if (stats == null) {
                continue;
            }
            final long unread = s.delivered() - stats.rxPackets();
            final long untaken = stats.txPackets() - s.taken();
            if (unread < 0 || unread > UNREAD_BOUND || untaken < 0 || untaken > QUEUE_SIZE) {
                report.fail("front-end statistics", "vm" + s.lane() + " session " + s.number() + " ("
                        + s.description() + "): testpmd sent " + stats.txPackets() + " and the daemon took "
                        + s.taken() + "; the daemon delivered " + s.delivered() + " and testpmd read "
                        + stats.rxPackets() + " (the first difference must be 0.." + UNREAD_BOUND
                        + ": a ring the PMD flushed at its start and one left unread at its stop; the second 0.."
                        + QUEUE_SIZE + ": frames left in a ring"
                        + " when the front-end stopped)");
            }
        }
        report.setting("front-end sessions", sessions.size() + " (" + killed + " killed with SIGKILL, " + stopped
                + " stopped with SIGINT, their statistics within the ring bounds of the daemon's counts)");
        for (int lane = 0; lane < 2; lane++) {
            final int index = lane;
            final long laneSessions = sessions.stream().filter(s -> s.lane() == index).count();
            final int connects = count(lane, "front-end connected");
            if (connects != laneSessions) {
                report.fail("sessions", "vm" + lane + ": the daemon logged " + connects + " connections for "
                        + laneSessions + " sessions");
            }
        }
    }

    private void checkResources(final ProcessResources baseline, final ProcessResources end) {
        report.resources(baseline, end);
        if (!end.descriptorsButJars().equals(baseline.descriptorsButJars())) {
            report.fail("open descriptors", "baseline " + baseline.descriptorsButJars() + ", end "
                    + end.descriptorsButJars());
        }
        if (!end.fixedThreads().equals(baseline.fixedThreads())) {
            report.fail("threads", "baseline " + baseline.fixedThreads() + ", end " + end.fixedThreads());
        }
        if (!end.sharedMappings().equals(baseline.sharedMappings())) {
            report.fail("shared mappings (guest memory)", "baseline " + baseline.sharedMappings() + ", end "
                    + end.sharedMappings());
        }
        if (end.heapUsedKb() > baseline.heapUsedKb() + HEAP_GROWTH_KB) {
            report.fail("heap", "in use after a full GC: baseline " + baseline.heapUsedKb() + " KiB, end "
                    + end.heapUsedKb() + " KiB (more than " + HEAP_GROWTH_KB + " KiB growth)");
        }
        if (end.nativeOtherKb() > baseline.nativeOtherKb() + NATIVE_GROWTH_KB) {
            report.fail("native memory", "allocated by the daemon (NMT Other): baseline " + baseline.nativeOtherKb()
                    + " KiB, end " + end.nativeOtherKb() + " KiB (more than " + NATIVE_GROWTH_KB + " KiB growth)");
        }
        if (end.rssKb() > baseline.rssKb() + RSS_GROWTH_KB) {
            report.fail("resident memory", "after a full GC: baseline " + baseline.rssKb() + " KiB, end "
                    + end.rssKb() + " KiB (more than " + RSS_GROWTH_KB + " KiB growth)");
        }
    }

    private static String describe(final ProcessResources r) {
        return String.format(Locale.ROOT, "RSS %,d KiB (anon %,d, shmem %,d), heap in use %,d KiB, native (NMT"
                        + " Other) %,d KiB, %d threads (%d outside the JVM's pools), %d descriptors, %d shared"
                        + " mappings",
                r.rssKb(), r.rssAnonKb(), r.rssShmemKb(), r.heapUsedKb(), r.nativeOtherKb(), r.threads().size(),
                r.fixedThreads().size(), r.descriptorCount(), r.sharedMappings().size());
    }

    /**
     * Every error the daemon recorded must be explained by a counter; none is expected from killed front-ends or
     * a TAP going down (those are lifecycle lines and counters), so any recorded error fails the soak.
     */
    private void checkErrors(final Map<String, Long> counters) {
        final long errors = value(counters, "errors");
        report.setting("errors recorded", Long.toString(errors));
        for (CountersFileReader.ErrorRecord error : recordedErrors()) {
            report.fail("errors", error.observationCount() + " x " + firstLine(error.text()));
        }
    }

    private static String firstLine(final String text) {
        final int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }

    /** The daemon stopped: its exit code, its log line by line, and its last word on drops. */
    private void checkExit() throws IOException {
        if (daemon.exitCode() != 0) {
            report.fail("exit", "the daemon exited with " + daemon.exitCode() + " on SIGTERM");
        }
        final String log = daemon.log();
        final List<Pattern> lifecycle = List.of(
                Pattern.compile("vioplane: (bridging onto TAP|listening on|ready|stopping|drops by reason:).*"),
                Pattern.compile("listening on .* \\(mode \\d+\\)"),
                Pattern.compile(".*\\.sock#\\d+: front-end connected"),
                Pattern.compile(".*\\.sock#\\d+: closed: the front-end closed the connection \\{.*\\}"),
                Pattern.compile("VirtioNetDevice\\[net\\[.*\\], port=vm\\d\\]: (front-end connected|front-end"
                        + " disconnected; state released|memory table: .*|vring \\d+ (started|stopped).*)"),
                Pattern.compile("tap " + tap + ": link (down|up)[;,].*"));
        int linkDown = 0;
        final Map<String, Integer> unexplained = new LinkedHashMap<>();
        for (String raw : log.lines().toList()) {
            final String line = TIMESTAMP.matcher(raw).replaceFirst("");
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("tap " + tap + ": link down")) {
                linkDown++;
            }
            if (lifecycle.stream().noneMatch(p -> p.matcher(line).matches())) {
                unexplained.merge(line.replaceAll("\\d+", "N"), 1, Integer::sum);
            }
        }
        unexplained.forEach((line, times) -> report.fail("log", times + " x a line no counter explains: " + line));
        final Matcher drops = Pattern.compile("vioplane: drops by reason: (.*)").matcher(log);
        report.setting("daemon's last word", drops.find() ? "drops by reason: " + drops.group(1) : "(none)");
        report.setting("link-down lines", Integer.toString(linkDown));
        if (linkDown == 0 || linkDown != wentDown) {
            report.fail("TAP flaps", "the daemon logged its TAP going down " + linkDown + " times and counted "
                    + wentDown);
        }
        if (!daemon.dropsByReason().equals(finalDrops)) {
            report.fail("drops by reason", "the daemon's counters said " + finalDrops + " after the drain, and it"
                    + " said " + daemon.dropsByReason() + " when it stopped");
        }
    }
}

package io.vioplane.perf.peers;

import io.vioplane.perf.Progress;
import io.vioplane.perf.ResultTable;
import io.vioplane.platform.sys.CpuAffinity;
import io.vioplane.vhostuser.frontend.BlkFrontEnd;
import io.vioplane.virtioblk.BlkRequestType;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * vioplane's {@code vhost-user-blk} daemon against qemu-storage-daemon's vhost-user-blk export, both over the same
 * raw image with O_DIRECT and io_uring ({@code --direct}; {@code aio=io_uring,cache.direct=on}), each a separate
 * process pinned to CPU 0, both driven by the same in-process {@link BlkFrontEnd} on CPU 1; and {@code fio} with
 * io_uring and O_DIRECT on the same file as the machine's limit. The image is placed on tmpfs ({@code /dev/shm})
 * and on the disk (the work directory's file system) in turn. Workloads: 4 KiB random read and write at queue
 * depth 1 and 32, 128 KiB sequential read and write at depth 4.
 *
 * <p>Each run reports IOPS, MB/s, the p50/p99 of the front-end's per-request latency (HdrHistogram, submission to
 * completion seen by the poller) and the server's CPU time per request (every thread of the daemon, from
 * {@code /proc/PID/task/TID/schedstat}; for fio its own CPU per I/O from its report): on a shared machine the CPU
 * per request shows the cost of a back-end even when the IOPS only show the neighbours. Runs alternate between the
 * back-ends (run 1 of each, then run 2 of each...) so the machine's load spreads over them; the table gives medians
 * and ranges over the runs.
 */
public final class BlockComparison {
    /** Bytes of the benchmark image. */
    public static final long IMAGE_BYTES = 256L << 20;
    /** Where tmpfs is expected. */
    static final Path TMPFS = Path.of("/dev/shm");
    private static final String VIOPLANE = "vioplane";
    private static final String QSD = "qemu-storage-daemon";
    private static final String FIO = "fio (io_uring, direct)";
    /** vioplane with the JVM options of {@code $VIOPLANE_BENCH_VARIANT_OPTS} (experiments; {@link #main} only). */
    private static final String VARIANT = "vioplane (variant)";

    /** One workload. */
    public enum Workload {
        /** 4 KiB random reads, one at a time. */
        RANDREAD_4K_QD1("4k randread QD1", BlkRequestType.IN, 4096, 1, true, "randread"),
        /** 4 KiB random reads, 32 in flight. */
        RANDREAD_4K_QD32("4k randread QD32", BlkRequestType.IN, 4096, 32, true, "randread"),
        /** 4 KiB random writes, one at a time. */
        RANDWRITE_4K_QD1("4k randwrite QD1", BlkRequestType.OUT, 4096, 1, true, "randwrite"),
        /** 4 KiB random writes, 32 in flight. */
        RANDWRITE_4K_QD32("4k randwrite QD32", BlkRequestType.OUT, 4096, 32, true, "randwrite"),
        /** 128 KiB sequential reads, 4 in flight. */
        SEQREAD_128K("128k seqread QD4", BlkRequestType.IN, 128 * 1024, 4, false, "read"),
        /** 128 KiB sequential writes, 4 in flight. */
        SEQWRITE_128K("128k seqwrite QD4", BlkRequestType.OUT, 128 * 1024, 4, false, "write");

        final String title;
        final int type;
        final int bytes;
        final int depth;
        final boolean random;
        final String fioMode;

        Workload(final String title, final int type, final int bytes, final int depth, final boolean random,
                 final String fioMode) {
            this.title = title;
            this.type = type;
            this.bytes = bytes;
            this.depth = depth;
            this.random = random;
            this.fioMode = fioMode;
        }

        /** @return the row title, e.g. {@code "4k randread QD32"} */
        public String title() {
            return title;
        }
    }

    /** Where the image lives. */
    public enum Location {
        /** {@code /dev/shm}: no device below, the cost of the back-ends themselves. */
        TMPFS("tmpfs"),
        /** The work directory's (disk) file system. */
        DISK("disk");

        final String title;

        Location(final String title) {
            this.title = title;
        }
    }

    /**
     * One measured run.
     *
     * @param cpuNsPerRequest the server's CPU time per request (NaN if unknown)
     */
    public record Result(String backEnd, int run, Location location, Workload workload, double iops,
                         double megabytesPerSecond, long p50Ns, long p99Ns, double cpuNsPerRequest) {
    }

    private final Path root;
    private final Path work;
    private final int runs;
    private final int seconds;
    private List<Workload> workloads = List.of(Workload.values());
    private List<Location> locations = List.of(Location.values());
    private List<String> backEnds = List.of(VIOPLANE, QSD, FIO);
    private Progress progress;
    private final List<String> loads = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    /**
     * @param root    the project root (for the daemon's jvm.options)
     * @param work    where the disk image and the sockets go
     * @param runs    runs of every back-end, workload and location
     * @param seconds measured seconds per run (after one second of warm-up)
     */
    public BlockComparison(final Path root, final Path work, final int runs, final int seconds) {
        this.root = root;
        this.work = work;
        this.runs = runs;
        this.seconds = seconds;
    }

    /** Reports each step to {@code progress}. @return this */
    public BlockComparison reportingTo(final Progress reporter) {
        this.progress = reporter;
        return this;
    }

    /** Runs only these workloads. @return this */
    public BlockComparison workloads(final List<Workload> selected) {
        this.workloads = List.copyOf(selected);
        return this;
    }

    /** Places the image only there. @return this */
    public BlockComparison locations(final List<Location> selected) {
        this.locations = List.copyOf(selected);
        return this;
    }

    /** Runs only these back-ends ({@code vioplane}, {@code qsd}, {@code fio}). @return this */
    public BlockComparison backEnds(final List<String> selected) {
        final List<String> chosen = new ArrayList<>();
        for (String name : selected) {
            chosen.add(switch (name) {
                case "vioplane" -> VIOPLANE;
                case "qsd", QSD -> QSD;
                case "fio" -> FIO;
                case "variant" -> VARIANT;
                default -> throw new IllegalArgumentException("unknown back-end " + name);
            });
        }
        this.backEnds = List.copyOf(chosen);
        return this;
    }

    /** @return the steps {@link #runAll} takes (one per back-end, location and run), for a progress estimate */
    public int steps() {
        return runs * locations.size() * workloads.size();
    }

    /** @return the seconds one step takes, roughly */
    public double secondsPerStep() {
        return backEnds.size() * (seconds + 1.3);
    }

    /** @return true if qemu-storage-daemon is installed */
    public static boolean qemuStorageDaemonAvailable() {
        return onPath("qemu-storage-daemon");
    }

    private static boolean onPath(final String program) {
        for (String directory : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(directory, program))) {
                return true;
            }
        }
        return false;
    }

    /** Runs every workload against every back-end available, {@code runs} times, the image in each location. */
    public List<Result> runAll() throws Exception {
        final List<Result> results = new ArrayList<>();
        final List<Path> images = new ArrayList<>();
        final List<Location> usable = new ArrayList<>();
        for (Location location : locations) {
            final Path directory = directoryFor(location);
            if (directory == null) {
                continue;
            }
            final Path image = directory.resolve("vioplane-bench-" + ProcessHandle.current().pid() + ".img");
            fillImage(image);
            images.add(image);
            usable.add(location);
        }
        try {
            for (int run = 1; run <= runs; run++) {
                for (int l = 0; l < usable.size(); l++) {
                    loads.add("run " + run + " " + usable.get(l).title + ": load " + loadAverage());
                    runOnce(usable.get(l), images.get(l), run, results);
                }
            }
        } finally {
            for (Path image : images) {
                Files.deleteIfExists(image);
            }
        }
        return results;
    }

    /**
     * One run in one location: both daemons started, then workload by workload each back-end in turn (vioplane
     * first in odd runs, qemu-storage-daemon first in even ones), so a change of the machine's load hits both
     * back-ends of a workload alike.
     */
    private void runOnce(final Location location, final Path image, final int run, final List<Result> results)
            throws IOException, InterruptedException {
        final Path vioplaneSocket = work.resolve("vioplane-blk.sock");
        final Path variantSocket = work.resolve("vioplane-variant-blk.sock");
        final Path qsdSocket = work.resolve("qsd.sock");
        final List<String> daemonArguments = List.of("--image", image.toString(), "--direct", "--cpu", "0");
        DaemonProcess vioplane = null;
        DaemonProcess variant = null;
        Process qsd = null;
        try {
            if (backEnds.contains(VIOPLANE)) {
                vioplane = DaemonProcess.start(root, null, "vhost-user-blk", concat(List.of("--socket-path",
                        vioplaneSocket.toString()), daemonArguments));
            }
            if (backEnds.contains(VARIANT)) {
                variant = DaemonProcess.start(root, null,
                        DaemonProcess.options(System.getenv("VIOPLANE_BENCH_VARIANT_OPTS")), "vhost-user-blk",
                        concat(List.of("--socket-path", variantSocket.toString()), daemonArguments));
            }
            if (backEnds.contains(QSD) && qemuStorageDaemonAvailable()) {
                qsd = startQsd(image, qsdSocket);
            }
            for (Workload workload : workloads) {
                step(location.title + " " + workload.title + ", run " + run + " of " + runs);
                final List<Runnable> turns = new ArrayList<>();
                if (vioplane != null) {
                    final long pid = vioplane.pid();
                    turns.add(() -> results.add(drive(VIOPLANE, pid, run, location, vioplaneSocket, workload)));
                }
                if (variant != null) {
                    final long pid = variant.pid();
                    turns.add(() -> results.add(drive(VARIANT, pid, run, location, variantSocket, workload)));
                }
                if (qsd != null) {
                    final long pid = qsd.pid();
                    turns.add(() -> results.add(drive(QSD, pid, run, location, qsdSocket, workload)));
                }
                if (run % 2 == 0) {
                    java.util.Collections.reverse(turns);
                }
                turns.forEach(Runnable::run);
                if (backEnds.contains(FIO) && onPath("fio")) {
                    results.add(fio(location, image, run, workload));
                }
            }
        } finally {
            if (vioplane != null) {
                vioplane.close();
            }
            if (variant != null) {
                variant.close();
            }
            if (qsd != null) {
                qsd.destroy();
                if (!qsd.waitFor(10, TimeUnit.SECONDS)) {
                    qsd.destroyForcibly();
                }
            }
        }
    }

    private static List<String> concat(final List<String> a, final List<String> b) {
        final List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private Process startQsd(final Path image, final Path socket) throws IOException, InterruptedException {
        Files.deleteIfExists(socket);
        final Process qsd = new ProcessBuilder("taskset", "-c", "0", "qemu-storage-daemon", "--blockdev",
                "driver=file,node-name=disk,filename=" + image + ",aio=io_uring,cache.direct=on", "--export",
                "type=vhost-user-blk,id=e0,node-name=disk,addr.type=unix,addr.path=" + socket + ",writable=on")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(socket) && qsd.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (!Files.exists(socket)) {
            qsd.destroyForcibly();
            throw new IOException("qemu-storage-daemon did not create " + socket);
        }
        return qsd;
    }

    private Path directoryFor(final Location location) throws IOException {
        final Path directory = location == Location.TMPFS ? TMPFS : work;
        final String type = Files.isDirectory(directory) ? Files.getFileStore(directory).type() : "missing";
        final boolean tmpfs = type.equals("tmpfs");
        if (location == Location.TMPFS && !tmpfs || location == Location.DISK && tmpfs) {
            notes.add(location.title + " skipped: " + directory + " is " + type);
            return null;
        }
        notes.add(location.title + ": image in " + directory + " (" + type + ")");
        return directory;
    }

    private void step(final String what) {
        if (progress != null) {
            progress.step(what);
        }
    }

    private static void fillImage(final Path image) throws IOException, InterruptedException {
        final Process dd = new ProcessBuilder("dd", "if=/dev/zero", "of=" + image, "bs=1M",
                "count=" + (IMAGE_BYTES >> 20), "oflag=direct", "status=none").inheritIO().start();
        if (dd.waitFor() != 0) {
            throw new IOException("dd could not write the benchmark image " + image);
        }
    }

    /** @return the 1, 5 and 15 minute load averages as {@code uptime} prints them */
    static String loadAverage() {
        try {
            final String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | ArrayIndexOutOfBoundsException e) {
            return "unknown";
        }
    }

    /** @return the CPU time every thread of process {@code pid} has run, in ns (0 if it cannot be read) */
    static long processCpuNs(final long pid) {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    final String schedstat = Files.readString(task.resolve("schedstat"));
                    total += Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile: its time is gone from the sum either way
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return total;
    }

    private Result drive(final String backEnd, final long serverPid, final int run, final Location location,
                         final Path socket, final Workload workload) {
        final int[] cpus = CpuAffinity.allowedCpus();
        if (cpus.length > 1) {
            CpuAffinity.restrictCurrentThread(cpus[1]);
        }
        try {
            return drivePinned(backEnd, serverPid, run, location, socket, workload);
        } finally {
            if (cpus.length > 1) {
                CpuAffinity.restrictCurrentThread(cpus);
            }
        }
    }

    /** Drives one workload from the current thread (pinned by the caller; daemons started later inherit nothing). */
    private Result drivePinned(final String backEnd, final long serverPid, final int run, final Location location,
                               final Path socket, final Workload workload) {
        final Histogram latencies = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        final long[] submittedNs = new long[workload.depth];
        final int[] done = new int[workload.depth];
        final SplittableRandom random = new SplittableRandom(42);
        final long sectors = IMAGE_BYTES / 512;
        final long stepSectors = workload.bytes / 512;
        long nextSequential = 0;
        long completed = 0;
        try (BlkFrontEnd frontEnd = new BlkFrontEnd(socket, 128)) {
            final long warmEndNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            final long endNs = warmEndNs + TimeUnit.SECONDS.toNanos(seconds);
            for (int slot = 0; slot < workload.depth; slot++) {
                nextSequential = place(frontEnd, workload, slot, random, sectors, stepSectors, nextSequential);
                submittedNs[slot] = System.nanoTime();
            }
            frontEnd.kick();
            boolean measuring = false;
            long measuredStartNs = 0;
            long cpuStartNs = 0;
            while (true) {
                final int n = frontEnd.reap(done);
                long nowNs = System.nanoTime();
                if (!measuring && nowNs >= warmEndNs) {
                    measuring = true;
                    cpuStartNs = processCpuNs(serverPid);
                    nowNs = System.nanoTime();
                    measuredStartNs = nowNs;
                }
                if (nowNs >= endNs) {
                    final long cpuNs = processCpuNs(serverPid) - cpuStartNs;
                    final double elapsedS = (nowNs - measuredStartNs) / 1e9;
                    final double iops = completed / elapsedS;
                    return new Result(backEnd, run, location, workload, iops, iops * workload.bytes / 1e6,
                            latencies.getValueAtPercentile(50), latencies.getValueAtPercentile(99),
                            completed == 0 || cpuStartNs == 0 ? Double.NaN : (double) cpuNs / completed);
                }
                for (int i = 0; i < n; i++) {
                    final int slot = done[i];
                    if (frontEnd.status(slot) != BlkRequestType.S_OK) {
                        throw new IllegalStateException(backEnd + " failed a " + workload.title + " request");
                    }
                    if (measuring) {
                        latencies.recordValue(Math.min(nowNs - submittedNs[slot], latencies.getHighestTrackableValue()));
                        completed++;
                    }
                    nextSequential = place(frontEnd, workload, slot, random, sectors, stepSectors, nextSequential);
                    submittedNs[slot] = System.nanoTime();
                }
                if (n > 0) {
                    frontEnd.kick();
                }
                if (frontEnd.deviceFault() != null) {
                    throw new IllegalStateException(backEnd + ": " + frontEnd.deviceFault());
                }
            }
        }
    }

    private static long place(final BlkFrontEnd frontEnd, final Workload workload, final int slot,
                              final SplittableRandom random, final long sectors, final long stepSectors,
                              final long nextSequential) {
        final long sector;
        long next = nextSequential;
        if (workload.random) {
            sector = random.nextLong(sectors / stepSectors) * stepSectors;
        } else {
            sector = next;
            next = next + stepSectors >= sectors ? 0 : next + stepSectors;
        }
        if (!frontEnd.place(slot, workload.type, sector, workload.bytes)) {
            throw new IllegalStateException("the front-end ring is full");
        }
        return next;
    }

    private Result fio(final Location location, final Path image, final int run, final Workload workload)
            throws IOException, InterruptedException {
        final List<String> command = new ArrayList<>(List.of("fio", "--name=limit", "--filename=" + image,
                "--ioengine=io_uring", "--direct=1", "--rw=" + workload.fioMode, "--bs=" + workload.bytes,
                "--iodepth=" + workload.depth, "--ramp_time=1", "--runtime=" + seconds, "--time_based",
                "--size=" + IMAGE_BYTES, "--output-format=json"));
        final int[] cpus = CpuAffinity.allowedCpus();
        if (cpus.length > 1) {
            command.add("--cpus_allowed=" + cpus[1]);
        }
        final Process fio = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final String json = new String(fio.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (fio.waitFor() != 0) {
            throw new IOException("fio failed for " + workload.title);
        }
        return parseFio(json, run, location, workload);
    }

    /** @return the figures of fio's JSON report {@code json} for {@code workload} */
    static Result parseFio(final String json, final int run, final Location location, final Workload workload) {
        final String section = workload.type == BlkRequestType.IN ? "\"read\" : {" : "\"write\" : {";
        final int at = json.indexOf(section);
        final double iops = Double.parseDouble(first(json, at, "\"iops\" : ([0-9.]+)"));
        final long ios = Long.parseLong(first(json, at, "\"total_ios\" : ([0-9]+)"));
        final long p50 = Long.parseLong(first(json, at, "\"50\\.000000\" : ([0-9]+)"));
        final long p99 = Long.parseLong(first(json, at, "\"99\\.000000\" : ([0-9]+)"));
        final double runtimeMs = Double.parseDouble(first(json, 0, "\"job_runtime\" : ([0-9.]+)"));
        final double cpuPercent = Double.parseDouble(first(json, 0, "\"usr_cpu\" : ([0-9.]+)"))
                + Double.parseDouble(first(json, 0, "\"sys_cpu\" : ([0-9.]+)"));
        return new Result(FIO, run, location, workload, iops, iops * workload.bytes / 1e6, p50, p99,
                ios == 0 ? Double.NaN : cpuPercent / 100 * runtimeMs * 1e6 / ios);
    }

    private static String first(final String text, final int from, final String regex) {
        final Matcher matcher = Pattern.compile(regex).matcher(text);
        if (from < 0 || !matcher.find(from)) {
            throw new IllegalStateException("fio's JSON has no " + regex);
        }
        return matcher.group(1);
    }

    /** @return the results as a table, with vioplane / qemu-storage-daemon and vioplane / fio ratios */
    public ResultTable table(final List<Result> results) {
        final ResultTable table = table(results, runs);
        notes.forEach(table::note);
        loads.forEach(table::note);
        return table;
    }

    /**
     * @return the results of {@code runs} runs each as a table: medians, IOPS ranges, and the median and range of the
     * per-run ratios (vioplane's IOPS / the other back-end's in the same run, measured back to back)
     */
    public static ResultTable table(final List<Result> results, final int runs) {
        final ResultTable table = new ResultTable("blk", "vhost-user-blk (one queue, O_DIRECT, io_uring)")
                .note("median of " + runs + " run(s); IOPS and MB/s higher is better; latency and CPU/request lower is"
                        + " better")
                .note("ratio = vioplane's IOPS / that back-end's, in the same run (back to back): median and range"
                        + " over the runs; above 1.00 vioplane is faster")
                .note("CPU/request: the server's CPU time per request, all its threads (the front-end's is not in it);"
                        + " fio's is its own, submission included")
                .column("image", false).column("workload", false).column("back-end", false)
                .column("IOPS", true).column("range (runs)", true).column("MB/s", true).column("p50", true)
                .column("p99", true).column("CPU/request", true).column("vioplane / this", true)
                .column("ratio range", true);
        for (Location location : Location.values()) {
            for (Workload workload : Workload.values()) {
                final List<Result> vioplane = select(results, location, workload, VIOPLANE);
                for (String backEnd : List.of(VIOPLANE, VARIANT, QSD, FIO)) {
                    final List<Result> these = select(results, location, workload, backEnd);
                    if (these.isEmpty()) {
                        continue;
                    }
                    final double iops = median(these, Result::iops);
                    final double[] samples = these.stream().mapToDouble(Result::iops).toArray();
                    final double[] ratios = pairedRatios(vioplane, these);
                    final boolean ratio = !backEnd.equals(VIOPLANE) && ratios.length > 0;
                    table.row(ResultTable.Cell.text(location.title), ResultTable.Cell.text(workload.title),
                            ResultTable.Cell.text(backEnd), ResultTable.Cell.number(iops, "IOPS"),
                            ResultTable.Cell.range(Arrays.stream(samples).min().orElse(Double.NaN),
                                    Arrays.stream(samples).max().orElse(Double.NaN), "IOPS"),
                            ResultTable.Cell.number(median(these, Result::megabytesPerSecond), "MB/s"),
                            ResultTable.Cell.number(median(these, r -> r.p50Ns() / 1e3), "us"),
                            ResultTable.Cell.number(median(these, r -> r.p99Ns() / 1e3), "us"),
                            ResultTable.Cell.number(median(these, r -> r.cpuNsPerRequest() / 1e3), "us"),
                            ratio ? ResultTable.Cell.number(median(ratios), "") : ResultTable.Cell.text(""),
                            ratio ? ResultTable.Cell.range(ratios[0], ratios[ratios.length - 1], "")
                                    : ResultTable.Cell.text(""));
                    if (!backEnd.equals(FIO)) {
                        table.checkAgreement(location.title + " " + workload.title + " / " + backEnd, samples);
                    }
                }
            }
        }
        return table;
    }

    /** @return vioplane's IOPS / the other's for every run both have, sorted */
    static double[] pairedRatios(final List<Result> vioplane, final List<Result> other) {
        final List<Double> ratios = new ArrayList<>();
        for (Result ours : vioplane) {
            for (Result theirs : other) {
                if (theirs.run() == ours.run() && theirs.iops() > 0) {
                    ratios.add(ours.iops() / theirs.iops());
                }
            }
        }
        return ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    private static double median(final double[] sorted) {
        return sorted.length == 0 ? Double.NaN : sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    private static List<Result> select(final List<Result> results, final Location location, final Workload workload,
                                       final String backEnd) {
        return results.stream().filter(r -> r.location() == location && r.workload() == workload
                && r.backEnd().equals(backEnd)).toList();
    }

    /** @return the median of {@code metric} over {@code results} (NaN if none) */
    static double median(final List<Result> results, final ToDoubleFunction<Result> metric) {
        return median(results.stream().mapToDouble(metric).filter(v -> !Double.isNaN(v)).sorted().toArray());
    }

    /**
     * Runs the comparison alone: {@code [runs [seconds [location,... [workload,... [back-end,...]]]]]}, e.g.
     * {@code 3 3 tmpfs RANDREAD_4K_QD32,RANDWRITE_4K_QD32 vioplane,qsd}; prints the table.
     */
    public static void main(final String[] args) throws Exception {
        final int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        final int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        final Path work = Files.createTempDirectory("vioplane-blk-bench");
        final BlockComparison comparison = new BlockComparison(Path.of(System.getProperty("vioplane.root", ".")),
                work, runs, seconds).reportingTo(Progress.onStandardError());
        if (args.length > 2) {
            comparison.locations(Arrays.stream(args[2].split(",")).map(s -> Location.valueOf(s.toUpperCase(Locale.ROOT)))
                    .toList());
        }
        if (args.length > 3) {
            comparison.workloads(Arrays.stream(args[3].split(",")).map(Workload::valueOf).toList());
        }
        if (args.length > 4) {
            comparison.backEnds(List.of(args[4].split(",")));
        }
        try {
            comparison.progress.begin("blk", comparison.steps(), comparison.secondsPerStep());
            final List<Result> results = comparison.runAll();
            comparison.progress.end();
            System.out.print(comparison.table(results).text());
        } finally {
            try (Stream<Path> paths = Files.walk(work)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }
}

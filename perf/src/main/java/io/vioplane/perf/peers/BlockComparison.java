package io.vioplane.perf.peers;

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
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * vioplane's {@code vhost-user-blk} daemon against qemu-storage-daemon's vhost-user-blk export, both over the same
 * raw image with O_DIRECT and io_uring ({@code --direct}; {@code aio=io_uring,cache.direct=on}), each a separate
 * process pinned to CPU 0, both driven by the same in-process {@link BlkFrontEnd} on CPU 1; and {@code fio} with
 * io_uring and O_DIRECT on the same file as the machine's limit. Workloads: 4 KiB random read and write at queue
 * depth 1 and 32, 128 KiB sequential read and write at depth 4. Each run reports IOPS, MB/s and the p50/p99 of
 * the front-end's per-request latency (HdrHistogram, submission to completion seen by the poller).
 */
public final class BlockComparison {
    /** Bytes of the benchmark image. */
    public static final long IMAGE_BYTES = 256L << 20;

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
    }

    /** One measured run. */
    public record Result(String backEnd, Workload workload, double iops, double megabytesPerSecond, long p50Ns,
                         long p99Ns) {
    }

    private final Path root;
    private final Path work;
    private final int seconds;

    /**
     * @param root    the project root (for the daemon's jvm.options)
     * @param work    where the image and sockets go
     * @param seconds measured seconds per run (after one second of warm-up)
     */
    public BlockComparison(final Path root, final Path work, final int seconds) {
        this.root = root;
        this.work = work;
        this.seconds = seconds;
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

    /** Runs every workload against every back-end available. */
    public List<Result> runAll() throws Exception {
        final Path image = work.resolve("bench.img");
        fillImage(image);
        final List<Result> results = new ArrayList<>();
        final Path vioplaneSocket = work.resolve("vioplane-blk.sock");
        try (DaemonProcess daemon = DaemonProcess.start(root, null, "vhost-user-blk", List.of("--socket-path",
                vioplaneSocket.toString(), "--image", image.toString(), "--direct", "--cpu", "0"))) {
            for (Workload workload : Workload.values()) {
                results.add(drive("vioplane", vioplaneSocket, workload));
            }
        }
        if (qemuStorageDaemonAvailable()) {
            final Path qsdSocket = work.resolve("qsd.sock");
            final Process qsd = new ProcessBuilder("taskset", "-c", "0", "qemu-storage-daemon", "--blockdev",
                    "driver=file,node-name=disk,filename=" + image + ",aio=io_uring,cache.direct=on", "--export",
                    "type=vhost-user-blk,id=e0,node-name=disk,addr.type=unix,addr.path=" + qsdSocket + ",writable=on")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!Files.exists(qsdSocket) && qsd.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                for (Workload workload : Workload.values()) {
                    results.add(drive("qemu-storage-daemon", qsdSocket, workload));
                }
            } finally {
                qsd.destroy();
                if (!qsd.waitFor(10, TimeUnit.SECONDS)) {
                    qsd.destroyForcibly();
                }
            }
        }
        if (onPath("fio")) {
            for (Workload workload : Workload.values()) {
                results.add(fio(image, workload));
            }
        }
        return results;
    }

    private static void fillImage(final Path image) throws IOException, InterruptedException {
        final Process dd = new ProcessBuilder("dd", "if=/dev/zero", "of=" + image, "bs=1M",
                "count=" + (IMAGE_BYTES >> 20), "oflag=direct", "status=none").inheritIO().start();
        if (dd.waitFor() != 0) {
            throw new IOException("dd could not write the benchmark image " + image);
        }
    }

    private Result drive(final String backEnd, final Path socket, final Workload workload) {
        final int[] cpus = CpuAffinity.allowedCpus();
        if (cpus.length > 1) {
            CpuAffinity.restrictCurrentThread(cpus[1]);
        }
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
            while (true) {
                final int n = frontEnd.reap(done);
                final long nowNs = System.nanoTime();
                if (!measuring && nowNs >= warmEndNs) {
                    measuring = true;
                    measuredStartNs = nowNs;
                }
                if (nowNs >= endNs) {
                    final double elapsedS = (nowNs - measuredStartNs) / 1e9;
                    final double iops = completed / elapsedS;
                    return new Result(backEnd, workload, iops, iops * workload.bytes / 1e6,
                            latencies.getValueAtPercentile(50), latencies.getValueAtPercentile(99));
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

    private Result fio(final Path image, final Workload workload) throws IOException, InterruptedException {
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
        final String section = workload.type == BlkRequestType.IN ? "\"read\" : {" : "\"write\" : {";
        final int at = json.indexOf(section);
        final double iops = Double.parseDouble(first(json, at, "\"iops\" : ([0-9.]+)"));
        final long p50 = Long.parseLong(first(json, at, "\"50\\.000000\" : ([0-9]+)"));
        final long p99 = Long.parseLong(first(json, at, "\"99\\.000000\" : ([0-9]+)"));
        return new Result("fio (io_uring, direct)", workload, iops, iops * workload.bytes / 1e6, p50, p99);
    }

    private static String first(final String text, final int from, final String regex) {
        final Matcher matcher = Pattern.compile(regex).matcher(text);
        if (from < 0 || !matcher.find(from)) {
            throw new IllegalStateException("fio's JSON has no " + regex);
        }
        return matcher.group(1);
    }

    /** @return the results as a table, with vioplane / qemu-storage-daemon and vioplane / fio ratios */
    public static ResultTable table(final List<Result> results) {
        final ResultTable table = new ResultTable("blk", "vhost-user-blk (one queue, O_DIRECT, io_uring)")
                .note("IOPS and MB/s higher is better; latency percentiles lower is better")
                .note("ratio = vioplane's IOPS / that back-end's IOPS: above 1.00 vioplane is faster")
                .column("workload", false).column("back-end", false).column("IOPS", true).column("MB/s", true)
                .column("p50", true).column("p99", true).column("vioplane / this", true);
        for (Workload workload : Workload.values()) {
            Result vioplane = null;
            for (Result result : results) {
                if (result.workload() == workload && result.backEnd().equals("vioplane")) {
                    vioplane = result;
                }
            }
            for (Result result : results) {
                if (result.workload() != workload) {
                    continue;
                }
                final boolean other = vioplane != null && result != vioplane;
                table.row(ResultTable.Cell.text(workload.title), ResultTable.Cell.text(result.backEnd()),
                        ResultTable.Cell.number(result.iops(), "IOPS"),
                        ResultTable.Cell.number(result.megabytesPerSecond(), "MB/s"),
                        ResultTable.Cell.number(result.p50Ns() / 1e3, "us"),
                        ResultTable.Cell.number(result.p99Ns() / 1e3, "us"),
                        other ? ResultTable.Cell.number(vioplane.iops() / result.iops(), "")
                                : ResultTable.Cell.text(""));
            }
        }
        return table;
    }
}

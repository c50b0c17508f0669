package io.vioplane.perf.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a process holds at one moment, read from {@code /proc/PID} (proc(5)): resident memory ({@code status}:
 * VmRSS, RssAnon, RssShmem), its threads by name ({@code task/TID/comm}), its open descriptors by kind ({@code fd},
 * the link targets with numbers removed: {@code socket}, {@code anon_inode:[eventfd]}, a path), its shared writable
 * mappings ({@code maps}, {@code rw-s}: guest memory a vhost-user back-end mapped, and its counters file), and, for
 * a JVM, the Java heap in use after a full collection ({@code jcmd PID GC.run} then {@code GC.heap_info}) and, when
 * it runs with {@code -XX:NativeMemoryTracking=summary}, the native memory the program itself allocated (NMT's
 * "Other": FFM arenas, direct buffers; {@code jcmd PID VM.native_memory summary}).
 *
 * @param rssKb          VmRSS
 * @param rssAnonKb      RssAnon
 * @param rssShmemKb     RssShmem
 * @param heapUsedKb     Java heap in use after a full GC, or -1 if not read
 * @param nativeOtherKb  native memory NMT counts as "Other" (committed), or -1 if not tracked
 * @param threads        thread names, sorted (the JVM's own pools included)
 * @param descriptors    open descriptors by kind, with their counts
 * @param sharedMappings shared writable mappings, one line each ({@code start-end path})
 */
record ProcessResources(long rssKb, long rssAnonKb, long rssShmemKb, long heapUsedKb, long nativeOtherKb,
                        List<String> threads,
                        Map<String, Integer> descriptors, List<String> sharedMappings) {
    /** Threads the JVM starts and stops by itself as load changes (JIT compilers, GC workers): not counted. */
    static final Pattern JVM_POOL_THREAD = Pattern.compile("C[12] CompilerThre|GC Thread#\\d+|G1 Conc#\\d+"
            + "|G1 Refine#\\d+");
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
    private static final Pattern NMT_OTHER = Pattern.compile("Other \\(reserved=\\d+KB, committed=(\\d+)KB\\)");

    /**
     * Reads {@code pid}'s resources; with {@code collect}, first runs a full GC in it (a JVM) so that its heap and
     * resident memory reflect live data only.
     */
    static ProcessResources read(final long pid, final boolean collect) throws IOException, InterruptedException {
        long heapUsedKb = -1;
        long nativeOtherKb = -1;
        if (collect) {
            jcmd(pid, "GC.run");
            final Matcher used = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
            if (used.find()) {
                heapUsedKb = Long.parseLong(used.group(1));
            }
            final Matcher other = NMT_OTHER.matcher(jcmd(pid, "VM.native_memory summary"));
            if (other.find()) {
                nativeOtherKb = Long.parseLong(other.group(1));
            }
        }
        final Path proc = Path.of("/proc", Long.toString(pid));
        long rss = -1;
        long anon = -1;
        long shmem = -1;
        for (String line : Files.readAllLines(proc.resolve("status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = kilobytes(line);
            } else if (line.startsWith("RssAnon:")) {
                anon = kilobytes(line);
            } else if (line.startsWith("RssShmem:")) {
                shmem = kilobytes(line);
            }
        }
        final List<String> threads = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
            for (Path task : tasks.toList()) {
                try {
                    threads.add(Files.readString(task.resolve("comm")).strip());
                } catch (NoSuchFileException gone) {
                    // the thread ended while we listed
                }
            }
        }
        threads.sort(null);
        final Map<String, Integer> descriptors = new TreeMap<>();
        try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    descriptors.merge(kind(Files.readSymbolicLink(fd).toString()), 1, Integer::sum);
                } catch (NoSuchFileException closed) {
                    // closed while we listed
                }
            }
        }
        final List<String> shared = new ArrayList<>();
        for (String line : Files.readAllLines(proc.resolve("maps"))) {
            final String[] fields = line.trim().split("\\s+", 6);
            if (fields.length >= 2 && fields[1].equals("rw-s")) {
                shared.add(fields[0] + " " + (fields.length == 6 ? fields[5] : ""));
            }
        }
        return new ProcessResources(rss, anon, shmem, heapUsedKb, nativeOtherKb, List.copyOf(threads),
                Map.copyOf(descriptors),
                List.copyOf(shared));
    }

    /** @return the threads other than the JVM's self-sizing pools ({@link #JVM_POOL_THREAD}) */
    List<String> fixedThreads() {
        return threads.stream().filter(name -> !JVM_POOL_THREAD.matcher(name).matches()).toList();
    }

    /** @return the descriptor kinds other than jar files (a JVM opens a jar the first time it loads from it) */
    Map<String, Integer> descriptorsButJars() {
        final Map<String, Integer> kinds = new TreeMap<>(descriptors);
        kinds.keySet().removeIf(kind -> kind.endsWith(".jar"));
        return kinds;
    }

    /** @return the total of open descriptors */
    int descriptorCount() {
        return descriptors.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** @return a descriptor's kind: its link target, numbers in brackets dropped ({@code socket:[123]} -> socket) */
    static String kind(final String target) {
        if (target.startsWith("socket:")) {
            return "socket";
        }
        if (target.startsWith("pipe:")) {
            return "pipe";
        }
        if (target.startsWith("/memfd:")) {
            return "memfd";
        }
        return target;
    }

    private static long kilobytes(final String statusLine) {
        final String[] fields = statusLine.trim().split("\\s+");
        return Long.parseLong(fields[1]);
    }

    private static String jcmd(final long pid, final String command) throws IOException, InterruptedException {
        final Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        final Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command)
                .redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException("jcmd " + pid + " " + command + " failed: " + output);
        }
        return output;
    }
}

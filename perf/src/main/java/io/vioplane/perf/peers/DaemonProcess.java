package io.vioplane.perf.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * vioplane's {@code vhost-user-net} daemon as a separate process for a side-by-side run: a JVM with the project's
 * {@code jvm.options} and this JVM's class path, optionally inside a network namespace ({@code ip netns exec},
 * which execs, so {@link #pid()} is the daemon's). {@link #start} returns once the daemon says it is ready; its
 * standard error goes to a file (never a pipe that could fill and block it), deleted on {@link #close}, which sends
 * SIGTERM, waits for a clean stop and keeps the drops by reason the daemon reported at exit. JVM options in
 * {@code $VIOPLANE_BENCH_DAEMON_OPTS} (space-separated) are added to the daemon's, e.g. to profile it with
 * {@code -XX:StartFlightRecording=filename=daemon.jfr}.
 */
final class DaemonProcess implements AutoCloseable {
    private static final String READY = "vioplane: ready";
    private static final String DROPS = "vioplane: drops by reason: ";
    private static final Pattern DROP = Pattern.compile("(.+) ([0-9,]+)");
    private final Process process;
    private final Path log;
    private Map<String, Long> dropsByReason = Map.of();
    private String finalLog = "";

    private DaemonProcess(final Process process, final Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * @param root      the project root (for jvm.options)
     * @param namespace a network namespace to run in, or null
     * @param arguments the {@code vhost-user-net} arguments
     */
    static DaemonProcess start(final Path root, final String namespace, final List<String> arguments)
            throws IOException {
        return start(root, namespace, "vhost-user-net", arguments);
    }

    /** Starts {@code vioplane SUBCOMMAND ARGUMENTS} (e.g. {@code vhost-user-blk}) the same way. */
    static DaemonProcess start(final Path root, final String namespace, final String subcommand,
                               final List<String> arguments) throws IOException {
        return start(root, namespace, options(System.getenv("VIOPLANE_BENCH_DAEMON_OPTS")), subcommand, arguments);
    }

    /** @return {@code text} (space-separated JVM options, or null) as a list */
    static List<String> options(final String text) {
        return text == null || text.isBlank() ? List.of() : List.of(text.trim().split("\\s+"));
    }

    /** Starts {@code vioplane SUBCOMMAND ARGUMENTS} with {@code jvmOptions} added to the project's. */
    static DaemonProcess start(final Path root, final String namespace, final List<String> jvmOptions,
                               final String subcommand, final List<String> arguments) throws IOException {
        final List<String> command = new ArrayList<>();
        if (namespace != null) {
            command.addAll(List.of("ip", "netns", "exec", namespace));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + root.resolve("jvm.options")));
        command.addAll(jvmOptions);
        command.addAll(List.of("-Dvioplane.root=" + root, "-cp",
                System.getProperty("java.class.path"), "io.vioplane.cli.Vioplane", subcommand));
        command.addAll(arguments);
        final Path log = Files.createTempFile("vioplane-daemon-", ".log");
        log.toFile().deleteOnExit();
        final Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(log.toFile()).start();
        final DaemonProcess daemon = new DaemonProcess(process, log);
        try {
            daemon.awaitReady();
            return daemon;
        } catch (InterruptedException e) {
            daemon.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the daemon started", e);
        } catch (IOException | RuntimeException e) {
            daemon.close();
            throw e;
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains(READY)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("the vioplane daemon ended before it was ready:\n"
                        + Files.readString(log));
            }
            Thread.sleep(20);
        }
    }

    /** @return the daemon's process id */
    long pid() {
        return process.pid();
    }

    /** @return what the daemon printed on standard error so far (all of it once {@link #close} returned) */
    String log() throws IOException {
        return process.isAlive() || Files.exists(log) ? Files.readString(log) : finalLog;
    }

    /** @return true while the daemon runs */
    boolean isAlive() {
        return process.isAlive();
    }

    /** @return the daemon's exit code, once it has exited */
    int exitCode() {
        return process.exitValue();
    }

    /** @return the drops by reason the daemon reported when it stopped (empty before {@link #close} or if none) */
    Map<String, Long> dropsByReason() {
        return dropsByReason;
    }

    /** @return the drops parsed from a {@code "vioplane: drops by reason: a 1,234; b 5"} line in {@code log} */
    static Map<String, Long> parseDrops(final String log) {
        final Map<String, Long> drops = new LinkedHashMap<>();
        for (String line : log.lines().toList()) {
            if (line.startsWith(DROPS) && !line.equals(DROPS + "none")) {
                for (String item : line.substring(DROPS.length()).split("; ")) {
                    final Matcher drop = DROP.matcher(item);
                    if (drop.matches()) {
                        drops.merge(drop.group(1), Long.parseLong(drop.group(2).replace(",", "")), Long::sum);
                    }
                }
            }
        }
        return drops;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try {
            finalLog = Files.readString(log);
            dropsByReason = parseDrops(finalLog);
            Files.deleteIfExists(log);
        } catch (IOException e) {
            dropsByReason = Map.of();
        }
    }
}

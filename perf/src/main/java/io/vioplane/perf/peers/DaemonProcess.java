package io.vioplane.perf.peers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * vioplane's {@code vhost-user-net} daemon as a separate process for a side-by-side run: a JVM with the project's
 * {@code jvm.options} and this JVM's class path, optionally inside a network namespace ({@code ip netns exec},
 * which execs, so {@link #pid()} is the daemon's). {@link #start} returns once the daemon says it is ready; its
 * standard error is drained so it never blocks; {@link #close} sends SIGTERM and waits for a clean stop.
 */
final class DaemonProcess implements AutoCloseable {
    private static final String READY = "vioplane: ready";
    private final Process process;

    private DaemonProcess(final Process process) {
        this.process = process;
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
        final List<String> command = new ArrayList<>();
        if (namespace != null) {
            command.addAll(List.of("ip", "netns", "exec", namespace));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + root.resolve("jvm.options"), "-Dvioplane.root=" + root, "-cp",
                System.getProperty("java.class.path"), "io.vioplane.cli.Vioplane", subcommand));
        command.addAll(arguments);
        final Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        final DaemonProcess daemon = new DaemonProcess(process);
        try {
            daemon.awaitReady();
            return daemon;
        } catch (IOException | RuntimeException e) {
            daemon.close();
            throw e;
        }
    }

    private void awaitReady() throws IOException {
        final BufferedReader errors = new BufferedReader(
                new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        final StringBuilder seen = new StringBuilder();
        String line;
        while ((line = errors.readLine()) != null) {
            if (line.startsWith(READY)) {
                final Thread drain = new Thread(() -> {
                    try {
                        while (errors.readLine() != null) {
                            Thread.onSpinWait();
                        }
                    } catch (IOException ignored) {
                        // the daemon ended
                    }
                }, "daemon-stderr");
                drain.setDaemon(true);
                drain.start();
                return;
            }
            seen.append(line).append('\n');
        }
        throw new IllegalStateException("the vioplane daemon ended before it was ready:\n" + seen);
    }

    /** @return the daemon's process id */
    long pid() {
        return process.pid();
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
    }
}

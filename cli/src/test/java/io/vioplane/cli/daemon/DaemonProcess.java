package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.peers.ConsoleTranscript;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * The {@code vioplane} command run as its own process, as a user runs it (the test JVM's java, the project's
 * jvm.options and the test classpath), optionally inside a network namespace: for tests that must SIGKILL the
 * daemon. Its standard output and error are followed like a console. {@link #close()} ends the process this object
 * started, by its PID.
 */
final class DaemonProcess implements AutoCloseable {
    private static final long READY_TIMEOUT_MS = 60_000;

    private final Process process;
    private final ConsoleTranscript output = new ConsoleTranscript();

    private DaemonProcess(final Process process) {
        this.process = process;
        output.follow(process.getInputStream(), "vioplane-daemon-" + process.pid());
    }

    /** Starts {@code vioplane ARGUMENTS} (in {@code netns} unless null) and waits for its readiness line. */
    static DaemonProcess start(final Netns netns, final String... arguments) {
        final List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + Path.of(System.getProperty("vioplane.root"), "jvm.options"),
                "-cp", System.getProperty("java.class.path"), "io.vioplane.cli.Vioplane"));
        command.addAll(List.of(arguments));
        try {
            final Process started = new ProcessBuilder(netns == null ? command
                    : netns.commandLine(command.toArray(String[]::new))).redirectErrorStream(true).start();
            final DaemonProcess daemon = new DaemonProcess(started);
            if (daemon.await("vioplane: ready", READY_TIMEOUT_MS).isEmpty()) {
                daemon.close();
                throw new IllegalStateException("the daemon did not get ready:\n" + daemon.output());
            }
            return daemon;
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + command, e);
        }
    }

    /** @return what the process printed so far */
    String output() {
        return output.text();
    }

    /** Waits for {@code text} in the output. */
    Optional<MatchResult> await(final String text, final long timeoutMs) {
        try {
            return output.await(Pattern.compile(Pattern.quote(text)), 0, timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** @return the PID */
    long pid() {
        return process.pid();
    }

    /** Sends SIGKILL and waits for the process to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}

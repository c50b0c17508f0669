package io.vioplane.cli;

import io.vioplane.platform.testing.ChildJvm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code vioplane} command run as a user runs it: a separate JVM with the project's flags on the built class
 * path, optionally behind a prefix such as {@code ip netns exec NAME}. {@link #run} waits for a command to end;
 * {@link #start} starts a daemon and returns once it says {@code vioplane: ready}, draining its standard error.
 */
final class VioplaneProcess implements AutoCloseable {
    /** A finished command. */
    record Result(int exitCode, String stdout, String stderr) {
        /** @return standard error's lines */
        List<String> errorLines() {
            return stderr.lines().toList();
        }
    }

    private final Process process;
    private final StringBuffer stderr = new StringBuffer();

    private VioplaneProcess(final Process process) {
        this.process = process;
    }

    /** Runs {@code vioplane ARGS} to its end (at most two minutes). */
    static Result run(final String... args) throws Exception {
        return run(List.of(), args);
    }

    /** Runs {@code PREFIX... java ... vioplane ARGS} to its end (at most two minutes). */
    static Result run(final List<String> prefix, final String... args) throws Exception {
        final Process process = builder(prefix, Map.of(), args).start();
        process.getOutputStream().close();
        final StringBuffer err = new StringBuffer();
        final Thread drain = Thread.ofVirtual().start(() -> copy(process, err));
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("vioplane " + String.join(" ", args) + " did not end within 2 minutes");
        }
        drain.join();
        return new Result(process.exitValue(), out, err.toString());
    }

    /**
     * Starts a daemon and waits (at most a minute) for its {@code vioplane: ready} line.
     *
     * @param environment variables added to the daemon's environment
     */
    static VioplaneProcess start(final List<String> prefix, final Map<String, String> environment,
                                 final String... args) throws Exception {
        final Process process = builder(prefix, environment, args).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        final VioplaneProcess daemon = new VioplaneProcess(process);
        Thread.ofVirtual().start(() -> copy(process, daemon.stderr));
        final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (!daemon.stderr.toString().contains("vioplane: ready")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                daemon.close();
                throw new AssertionError("the daemon did not become ready:\n" + daemon.stderr);
            }
            Thread.sleep(20);
        }
        return daemon;
    }

    private static ProcessBuilder builder(final List<String> prefix, final Map<String, String> environment,
                                          final String... args) {
        final ProcessBuilder jvm = ChildJvm.builder(Vioplane.class, args);
        final List<String> command = new ArrayList<>(prefix);
        command.addAll(jvm.command());
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        return builder;
    }

    private static void copy(final Process process, final StringBuffer into) {
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                into.append(line).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the daemon's process id */
    long pid() {
        return process.pid();
    }

    /** @return what the daemon wrote to standard error so far */
    String stderr() {
        return stderr.toString();
    }

    /** Sends SIGTERM and waits for the exit (SIGKILL after 20 s). @return the exit code */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        Thread.sleep(50);
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
    }
}

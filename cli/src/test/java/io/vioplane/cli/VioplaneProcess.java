package io.vioplane.cli;

import io.vioplane.platform.testing.Await;
import io.vioplane.platform.testing.ChildJvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code vioplane} command run as a user runs it: a separate JVM with the project's flags on the built class
 * path, optionally behind a prefix such as {@code ip netns exec NAME}. {@link #run} waits for a command to end;
 * {@link #start} starts a daemon and returns once it says {@code vioplane: ready}, its standard error in a file.
 * The one runner of the command for tests (the bench has its own in perf, for the side-by-side runs).
 */
public final class VioplaneProcess implements AutoCloseable {
    /** A finished command. */
    public record Result(int exitCode, String stdout, String stderr) {
        /** @return standard error's lines */
        public List<String> errorLines() {
            return stderr.lines().toList();
        }
    }

    private final Process process;
    private final Path stderrFile;

    private VioplaneProcess(final Process process, final Path stderrFile) {
        this.process = process;
        this.stderrFile = stderrFile;
    }

    /** Runs {@code vioplane ARGS} to its end (at most two minutes). */
    public static Result run(final String... args) throws Exception {
        return run(List.of(), args);
    }

    /** Runs {@code PREFIX... java ... vioplane ARGS} to its end (at most two minutes). */
    public static Result run(final List<String> prefix, final String... args) throws Exception {
        return run(prefix, Map.of(), args);
    }

    /** Runs {@code PREFIX... java ... vioplane ARGS} with {@code environment} added, to its end (2 min at most). */
    public static Result run(final List<String> prefix, final Map<String, String> environment, final String... args)
            throws Exception {
        final Path out = Files.createTempFile("vioplane-", ".stdout");
        final Path err = Files.createTempFile("vioplane-", ".stderr");
        try {
            final Process process = builder(prefix, environment, args).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
            process.getOutputStream().close();
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("vioplane " + String.join(" ", args) + " did not end within 2 minutes");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * Starts a daemon and waits (at most a minute) for its {@code vioplane: ready} line.
     *
     * @param environment variables added to the daemon's environment
     */
    public static VioplaneProcess start(final List<String> prefix, final Map<String, String> environment,
                                 final String... args) throws Exception {
        final Path stderrFile = Files.createTempFile("vioplane-daemon-", ".stderr");
        final Process process = builder(prefix, environment, args).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderrFile.toFile()).start();
        final VioplaneProcess daemon = new VioplaneProcess(process, stderrFile);
        final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (!daemon.stderr().contains("vioplane: ready")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                daemon.close();
                throw new AssertionError("the daemon did not become ready:\n" + daemon.stderr());
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

    /** @return the daemon's process id */
    public long pid() {
        return process.pid();
    }

    /** @return what the daemon wrote to standard error so far */
    public String stderr() {
        try {
            return Files.readString(stderrFile);
        } catch (IOException e) {
            return "(cannot read " + stderrFile + ": " + e + ")";
        }
    }

    /** Sends SIGINT (as Ctrl-C does) and waits for the exit. @return the exit code */
    public int interrupt() throws Exception {
        new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        return process.waitFor();
    }

    /** Starts {@code vioplane ARGS} without waiting for a ready line (a command that runs for a while). */
    public static VioplaneProcess launch(final Map<String, String> environment, final String... args) throws Exception {
        final Path stderrFile = Files.createTempFile("vioplane-", ".stderr");
        final Process process = builder(List.of(), environment, args).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderrFile.toFile()).start();
        return new VioplaneProcess(process, stderrFile);
    }

    /** Sends SIGTERM and waits for the exit (SIGKILL after 20 s). @return the exit code */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    /** Sends SIGKILL and waits for the process to be gone (a crash, as the tests of restarts need). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** @return true once standard error contains {@code text}, false if it did not within {@code timeoutMs} */
    public boolean await(final String text, final long timeoutMs) {
        return Await.until(() -> stderr().contains(text), timeoutMs);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            stop();
        }
        Files.deleteIfExists(stderrFile);
    }
}

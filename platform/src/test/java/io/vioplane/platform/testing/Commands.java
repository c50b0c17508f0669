package io.vioplane.platform.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs short host commands (ip, sysctl) for tests, with a timeout, and fails with their output.
 */
public final class Commands {
    private Commands() {
    }

    /** The result of a finished command. */
    public record Result(int exitCode, String output) {
    }

    /** Runs {@code command}, failing unless it exits 0; returns its combined output. */
    public static String run(final String... command) {
        final Result result = tryRun(command);
        if (result.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + result.exitCode() + ": "
                    + result.output());
        }
        return result.output();
    }

    /** Runs {@code command} and returns how it ended; never throws for a non-zero exit. */
    public static Result tryRun(final String... command) {
        try {
            final Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            final byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Result(-1, "timed out: " + String.join(" ", command));
            }
            return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}

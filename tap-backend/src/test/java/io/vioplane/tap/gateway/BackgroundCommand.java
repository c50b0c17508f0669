package io.vioplane.tap.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A peer program a test runs in the background (a server or client inside a network namespace): its output is
 * collected as it comes, its input can be written, and {@link #close} ends it (only this process, by its id).
 */
final class BackgroundCommand implements AutoCloseable {
    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final Thread reader;

    BackgroundCommand(final List<String> command) {
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("could not start " + command, e);
        }
        reader = Thread.ofPlatform().daemon().name("peer-output").start(() -> {
            final byte[] buffer = new byte[4096];
            try (InputStream in = process.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                output.append("\n[output closed: ").append(e.getMessage()).append(']');
            }
        });
    }

    /** @return everything the program printed so far */
    String output() {
        return output.toString();
    }

    /** Writes {@code text} to the program's standard input. */
    void write(final String text) {
        try {
            final OutputStream in = process.getOutputStream();
            in.write(text.getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new IllegalStateException("writing to the peer failed", e);
        }
    }

    /** @return true if the program has ended */
    boolean finished() {
        return !process.isAlive();
    }

    /** @return the exit code, waiting at most {@code seconds} */
    int waitFor(final long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("peer did not end within " + seconds + " s: " + output());
        }
        reader.join(1000);
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

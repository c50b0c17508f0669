package io.vioplane.peers.dpdk;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Everything a child process writes to one stream, kept line by line as it arrives, read on a daemon thread of
 * its own so that the child never blocks on a full pipe. Waits for a line, or for the end, take a timeout.
 */
public final class Transcript {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<String> lines = new ArrayList<>();
    private boolean ended;

    private Transcript() {
    }

    /** Starts reading {@code output} until its end on a daemon thread named after {@code name}. */
    public static Transcript follow(final InputStream output, final String name) {
        final Transcript transcript = new Transcript();
        Thread.ofPlatform().daemon().name("transcript-" + name).start(() -> transcript.readAll(output));
        return transcript;
    }

    /**
     * Waits until some line, already read or still to come, contains a match of {@code pattern}.
     *
     * @return the first such line, or empty if none came within {@code timeoutMs} or before the stream ended
     */
    public Optional<String> awaitLine(final Pattern pattern, final long timeoutMs) throws InterruptedException {
        final long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int scanned = 0;
        lock.lock();
        try {
            while (true) {
                for (; scanned < lines.size(); scanned++) {
                    if (pattern.matcher(lines.get(scanned)).find()) {
                        return Optional.of(lines.get(scanned));
                    }
                }
                final long remainingNanos = deadlineNanos - System.nanoTime();
                if (ended || remainingNanos <= 0) {
                    return Optional.empty();
                }
                changed.awaitNanos(remainingNanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@code count} lines, already read or still to come, contain a match of {@code pattern}.
     *
     * @return how many such lines there were when the wait ended: {@code count}, or fewer if the time ran out or
     *         the stream ended first
     */
    public int awaitMatchingLines(final Pattern pattern, final int count, final long timeoutMs)
            throws InterruptedException {
        final long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int scanned = 0;
        int matched = 0;
        lock.lock();
        try {
            while (true) {
                for (; scanned < lines.size() && matched < count; scanned++) {
                    if (pattern.matcher(lines.get(scanned)).find()) {
                        matched++;
                    }
                }
                final long remainingNanos = deadlineNanos - System.nanoTime();
                if (matched >= count || ended || remainingNanos <= 0) {
                    return matched;
                }
                changed.awaitNanos(remainingNanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return true if the stream ended within {@code timeoutMs} */
    public boolean awaitEnd(final long timeoutMs) throws InterruptedException {
        final long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        lock.lock();
        try {
            while (!ended) {
                final long remainingNanos = deadlineNanos - System.nanoTime();
                if (remainingNanos <= 0) {
                    return false;
                }
                changed.awaitNanos(remainingNanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** @return every line read so far, each followed by a newline */
    public String text() {
        lock.lock();
        try {
            final StringBuilder text = new StringBuilder();
            lines.forEach(line -> text.append(line).append('\n'));
            return text.toString();
        } finally {
            lock.unlock();
        }
    }

    /** @return the last {@code lineCount} lines read so far (fewer if fewer came), each followed by a newline */
    public String tail(final int lineCount) {
        lock.lock();
        try {
            final StringBuilder text = new StringBuilder();
            lines.subList(Math.max(0, lines.size() - lineCount), lines.size())
                    .forEach(line -> text.append(line).append('\n'));
            return text.toString();
        } finally {
            lock.unlock();
        }
    }

    private void readAll(final InputStream output) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(output, StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                append(line);
            }
        } catch (IOException e) {
            append("[transcript: reading stopped: " + e + "]");
        } finally {
            lock.lock();
            try {
                ended = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void append(final String line) {
        lock.lock();
        try {
            lines.add(line);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}

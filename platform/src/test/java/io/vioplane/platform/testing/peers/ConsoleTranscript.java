package io.vioplane.platform.testing.peers;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything a guest's serial console (and QEMU's own messages) printed, read by a daemon thread from the
 * QEMU process's output, with carriage returns dropped; callers wait for a pattern to appear in it.
 */
public final class ConsoleTranscript {
    private final StringBuilder text = new StringBuilder();
    private boolean ended;

    /** Starts a daemon thread named {@code threadName} that appends everything {@code output} yields until EOF. */
    public Thread follow(final InputStream output, final String threadName) {
        return Thread.ofPlatform().name(threadName).daemon().start(() -> copy(output));
    }

    /** @return everything read so far */
    public synchronized String text() {
        return text.toString();
    }

    /** @return how many characters have been read so far */
    synchronized int length() {
        return text.length();
    }

    /** @return the last {@code maxChars} characters read (all of them if fewer) */
    public synchronized String tail(final int maxChars) {
        return text.substring(Math.max(0, text.length() - maxChars));
    }

    /** @return the text from character {@code fromIndex} to the end */
    synchronized String textFrom(final int fromIndex) {
        return text.substring(Math.min(fromIndex, text.length()));
    }

    /** @return true once the output has reached end of file (QEMU closed it or exited) */
    synchronized boolean ended() {
        return ended;
    }

    /**
     * Waits until {@code pattern} matches text at or after {@code fromIndex}, the output ends, or
     * {@code timeoutMs} passes.
     *
     * @return the match, with offsets relative to the whole transcript; empty on timeout or end of output
     */
    public synchronized Optional<MatchResult> await(final Pattern pattern, final int fromIndex, final long timeoutMs)
            throws InterruptedException {
        final long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            final Matcher matcher = pattern.matcher(text);
            if (matcher.find(Math.min(fromIndex, text.length()))) {
                return Optional.of(matcher.toMatchResult());
            }
            if (ended) {
                return Optional.empty();
            }
            final long remainingNanos = deadlineNanos - System.nanoTime();
            if (remainingNanos <= 0) {
                return Optional.empty();
            }
            TimeUnit.NANOSECONDS.timedWait(this, remainingNanos);
        }
    }

    private void copy(final InputStream output) {
        final char[] buffer = new char[8192];
        try (Reader reader = new InputStreamReader(output, StandardCharsets.UTF_8)) {
            int count;
            while ((count = reader.read(buffer)) >= 0) {
                append(buffer, count);
            }
        } catch (IOException e) {
            append(("\n[console reader: " + e + "]\n").toCharArray(), -1);
        } finally {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }
    }

    private synchronized void append(final char[] chars, final int count) {
        final int length = count < 0 ? chars.length : count;
        for (int i = 0; i < length; i++) {
            if (chars[i] != '\r') {
                text.append(chars[i]);
            }
        }
        notifyAll();
    }
}

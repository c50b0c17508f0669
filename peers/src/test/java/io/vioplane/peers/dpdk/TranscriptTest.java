package io.vioplane.peers.dpdk;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Waiting on a child's output: counting matching lines, as the side-by-side runs count rate samples. */
class TranscriptTest {
    private static final Pattern RATE = Pattern.compile("Rx-pps:");

    @Test
    void countsMatchingLinesAsTheyArrive() throws Exception {
        final PipedOutputStream child = new PipedOutputStream();
        final Transcript transcript = Transcript.follow(new PipedInputStream(child), "counting");
        child.write("  Rx-pps: 0\nother\n".getBytes(StandardCharsets.US_ASCII));
        child.flush();
        final Thread writer = Thread.ofPlatform().start(() -> {
            try {
                child.write("  Rx-pps: 5\n  Rx-pps: 6\n".getBytes(StandardCharsets.US_ASCII));
                child.flush();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals(3, transcript.awaitMatchingLines(RATE, 3, 10_000));
        writer.join();
        child.close();
    }

    @Test
    void reportsFewerLinesWhenTheStreamEndsFirst() throws Exception {
        final Transcript transcript = Transcript.follow(
                new ByteArrayInputStream("  Rx-pps: 0\n  Rx-pps: 1\n".getBytes(StandardCharsets.US_ASCII)), "short");
        assertEquals(2, transcript.awaitMatchingLines(RATE, 5, 10_000));
    }
}

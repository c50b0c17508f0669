package io.vioplane.platform.testing.peers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client of QEMU's machine protocol (QMP, QEMU {@code docs/interop/qmp-spec.rst}) over the Unix socket a guest
 * was started with ({@link QemuGuest.Builder#qmpSocket}): commands as JSON text, one response line each, events
 * kept for {@link #awaitEvent}. Only what the tests need (no JSON parser: responses are checked as text).
 */
public final class Qmp implements AutoCloseable {
    private final SocketChannel channel;
    private final BufferedReader lines;
    private final List<String> events = new ArrayList<>();

    private Qmp(final SocketChannel channel) {
        this.channel = channel;
        this.lines = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel),
                StandardCharsets.UTF_8));
    }

    /**
     * Connects to {@code socket} (waiting up to {@code timeout} for QEMU to create it), reads the greeting and
     * enters command mode.
     */
    public static Qmp connect(final Path socket, final Duration timeout) {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(UnixDomainSocketAddress.of(socket));
                final Qmp qmp = new Qmp(channel);
                final String greeting = qmp.lines.readLine();
                if (greeting == null || !greeting.contains("\"QMP\"")) {
                    qmp.close();
                    throw new IllegalStateException("no QMP greeting on " + socket + ": " + greeting);
                }
                qmp.execute("{\"execute\": \"qmp_capabilities\"}");
                return qmp;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new UncheckedIOException("connecting to QMP at " + socket, e);
                }
                sleep(50);
            }
        }
    }

    /**
     * Sends {@code command} (one JSON object) and returns QEMU's response line.
     *
     * @throws IllegalStateException if QEMU answers with an error
     */
    public synchronized String execute(final String command) {
        try {
            channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
            while (true) {
                final String line = lines.readLine();
                if (line == null) {
                    throw new IllegalStateException("QMP closed while waiting for the answer to " + command);
                }
                if (line.contains("\"event\"")) {
                    events.add(line);
                    continue;
                }
                if (line.contains("\"error\"")) {
                    throw new IllegalStateException("QMP refused " + command + ": " + line);
                }
                return line;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("QMP command " + command, e);
        }
    }

    /**
     * Waits for event {@code name} (e.g. {@code DEVICE_DELETED}) whose line contains {@code detail}; events that
     * arrived earlier count.
     *
     * @return the event's line
     * @throws IllegalStateException if it does not come within {@code timeout}
     */
    public synchronized String awaitEvent(final String name, final String detail, final Duration timeout) {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String event : events) {
                if (event.contains("\"event\": \"" + name + "\"") && event.contains(detail)) {
                    events.remove(event);
                    return event;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no QMP event " + name + " with " + detail + " within "
                        + timeout.toSeconds() + " s; events seen: " + events);
            }
            execute("{\"execute\": \"query-status\"}");
            sleep(200);
        }
    }

    private static void sleep(final long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // the guest is going away; nothing more to say to it
        }
    }
}

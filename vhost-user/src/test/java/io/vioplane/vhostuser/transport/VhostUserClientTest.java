package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.testing.RecordingHandler;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.GET_FEATURES;
import static io.vioplane.vhostuser.testing.TestFrontEnd.FLAGS;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Client mode against a test front-end that listens: the client connects, serves, and reconnects after the
 * front-end closes the connection and after the front-end's socket disappears and comes back.
 */
class VhostUserClientTest {
    private static final long TIMEOUT_MS = 10_000;

    @TempDir
    Path directory;

    /** A listening front-end socket. */
    private static final class Listener implements AutoCloseable {
        final Path path;
        final int fd;

        Listener(final Path path) {
            this.path = path;
            this.fd = UnixSockets.socket(true);
            UnixSockets.bind(fd, path.toString());
            UnixSockets.listen(fd, 4);
        }

        TestFrontEnd accept() {
            final long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
            while (System.nanoTime() < deadline) {
                final int connected = UnixSockets.accept(fd, false);
                if (connected >= 0) {
                    return TestFrontEnd.over(connected);
                }
                RecordingHandler.await(() -> false, 5);
            }
            throw new AssertionError("the client never connected to " + path);
        }

        @Override
        public void close() {
            FileIo.close(fd);
            try {
                Files.deleteIfExists(path);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private static void roundTrip(final TestFrontEnd frontEnd) {
        frontEnd.send(GET_FEATURES, FLAGS, new byte[0]);
        assertEquals(RecordingHandler.OFFERED_FEATURES, frontEnd.readReply().u64());
    }

    @Test
    void connectsServesAndReconnectsAfterTheFrontEndClosesOrGoesAway() {
        final Path socket = directory.resolve("frontend.sock");
        final List<RecordingHandler> handlers = new CopyOnWriteArrayList<>();
        final List<String> log = new CopyOnWriteArrayList<>();
        try (VhostUserClient client = VhostUserClient.builder(socket, () -> {
            final RecordingHandler handler = new RecordingHandler();
            handlers.add(handler);
            return handler;
        }).initialBackoffMs(10).maxBackoffMs(200).log(ErrorLog.printingTo(log::add)).start()) {
            assertTrue(RecordingHandler.await(() -> client.connectAttempts() >= 2, TIMEOUT_MS),
                    "attempts go on while nobody listens");
            assertEquals(0, client.connections());
            try (Listener listener = new Listener(socket)) {
                try (TestFrontEnd first = listener.accept()) {
                    roundTrip(first);
                }
                assertTrue(RecordingHandler.await(() -> handlers.size() == 1 && handlers.get(0).disconnects() == 1,
                        TIMEOUT_MS));
                try (TestFrontEnd second = listener.accept()) {
                    roundTrip(second);
                    assertEquals(2, client.connections(), "reconnected after the front-end closed");
                }
            }
            assertTrue(RecordingHandler.await(() -> client.activeConnection() == null, TIMEOUT_MS));
            final long attemptsWhileAway = client.connectAttempts();
            assertTrue(RecordingHandler.await(() -> client.connectAttempts() > attemptsWhileAway + 1, TIMEOUT_MS),
                    "retries while the front-end is away");
            try (Listener again = new Listener(socket); TestFrontEnd third = again.accept()) {
                roundTrip(third);
                assertEquals(3, client.connections(), "reconnected once the front-end listened again");
            }
            assertTrue(log.stream().anyMatch(line -> line.contains("cannot connect")), log.toString());
            assertEquals(2, log.stream().filter(line -> line.contains("cannot connect")).count(),
                    "one line per outage (before the first listener, and while the front-end was away): " + log);
        }
        for (RecordingHandler handler : handlers) {
            assertTrue(RecordingHandler.await(() -> handler.disconnects() == 1, TIMEOUT_MS));
            assertEquals(1, handler.connects());
        }
    }

    @Test
    void closeStopsReconnecting() {
        final Path socket = directory.resolve("frontend.sock");
        final RecordingHandler handler = new RecordingHandler();
        final VhostUserClient client = VhostUserClient.builder(socket, () -> handler).initialBackoffMs(5)
                .maxBackoffMs(20).log(ErrorLog.printingTo(line -> { })).start();
        try (Listener listener = new Listener(socket); TestFrontEnd frontEnd = listener.accept()) {
            roundTrip(frontEnd);
            client.close();
            assertTrue(frontEnd.awaitClosedByBackEnd(), "close ends the connection");
            assertEquals(1, handler.disconnects());
            assertNull(client.activeConnection());
            assertEquals(1, client.connections(), "no connection after close");
        }
    }
}

package io.vioplane.platform.sys;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.testing.OpenFds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class UnixSocketsTest {
    @Test
    void descriptorsArrivePairedWithTheirMessage() {
        final int[] pair = UnixSockets.socketPair();
        final EventFd[] sent = {EventFd.create(), EventFd.create(), EventFd.create()};
        for (int i = 0; i < sent.length; i++) {
            sent[i].add(i + 1);
        }
        final ReceivedFds received = new ReceivedFds();
        try (Arena arena = Arena.ofConfined()) {
            send(pair[0], arena, "A", sent[0].fd(), sent[1].fd());
            send(pair[0], arena, "BB", sent[2].fd());
            send(pair[0], arena, "CCC");

            final MemorySegment buffer = arena.allocate(16);
            assertEquals(1, UnixSockets.receive(pair[1], buffer, 1, received, 0));
            assertEquals(2, received.count(), "message A carried two descriptors");
            assertEquals(1, EventFd.adopt(received.take(0)).drain(), "A's first descriptor is the first eventfd");
            assertEquals(2, EventFd.adopt(received.take(1)).drain(), "A's second descriptor is the second eventfd");
            received.closeAll();

            assertEquals(2, UnixSockets.receive(pair[1], buffer, 2, received, 0));
            assertEquals(1, received.count(), "message BB carried one descriptor");
            try (EventFd third = EventFd.adopt(received.take(0))) {
                assertEquals(3, third.drain());
            }
            received.closeAll();

            assertEquals(3, UnixSockets.receive(pair[1], buffer, 3, received, 0));
            assertEquals(0, received.count(), "message CCC carried none");
            assertEquals("CCC", buffer.getString(0, StandardCharsets.US_ASCII).substring(0, 3));
        } finally {
            for (EventFd eventFd : sent) {
                eventFd.close();
            }
            FileIo.close(pair[0]);
            FileIo.close(pair[1]);
        }
    }

    @Test
    void memoryMappedFromAReceivedMemfdIsTheSenderMemory() {
        final int[] pair = UnixSockets.socketPair();
        final ReceivedFds received = new ReceivedFds();
        try (GuestMemory sender = GuestMemory.ofMemFd(0x1000_0000L, 1 << 20); Arena arena = Arena.ofConfined()) {
            send(pair[0], arena, "M", sender.regions().getFirst().fd());
            assertEquals(1, UnixSockets.receive(pair[1], arena.allocate(1), 1, received, 0));
            try (GuestMemory receiver = GuestMemory.builder()
                    .addFromFd(0x1000_0000L, 1 << 20, received.take(0), 0, true).build()) {
                sender.putLong(0x1000_0100L, 0xFEEDFACECAFEBEEFL);
                assertEquals(0xFEEDFACECAFEBEEFL, receiver.getLong(0x1000_0100L));
                receiver.putInt(0x1000_0000L + (1 << 20) - 4, 99);
                assertEquals(99, sender.getInt(0x1000_0000L + (1 << 20) - 4));
            }
        } finally {
            received.closeAll();
            FileIo.close(pair[0]);
            FileIo.close(pair[1]);
        }
    }

    @Test
    void tooManyDescriptorsAreDetectedAndNoneLeak() {
        final int[] pair = UnixSockets.socketPair();
        final EventFd[] sent = new EventFd[10];
        final int[] fds = new int[sent.length];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = EventFd.create();
            fds[i] = sent[i].fd();
        }
        final ReceivedFds received = new ReceivedFds();
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment data = arena.allocateFrom("X", StandardCharsets.US_ASCII);
            assertEquals(1, UnixSockets.send(pair[0], data, 1, fds, fds.length, 0, UnixSockets.MAX_SEND_FDS));
            final int before = OpenFds.count();
            final SysException failure = assertThrows(SysException.class,
                    () -> UnixSockets.receive(pair[1], arena.allocate(1), 1, received, 0));
            assertEquals(Errno.EMSGSIZE, failure.errno());
            assertEquals(0, received.count());
            assertEquals(before, OpenFds.count(), "the descriptors that did arrive were closed");
        } finally {
            for (EventFd eventFd : sent) {
                eventFd.close();
            }
            FileIo.close(pair[0]);
            FileIo.close(pair[1]);
        }
    }

    @Test
    void listensAcceptsAndConnectsByPath(@TempDir final Path directory) {
        final String path = directory.resolve("s.sock").toString();
        final int listener = UnixSockets.socket(true);
        int client = -1;
        int server = -1;
        try (Arena arena = Arena.ofConfined()) {
            UnixSockets.bind(listener, path);
            UnixSockets.listen(listener, 4);
            assertEquals(-1, UnixSockets.accept(listener, true), "no connection is pending yet");
            client = UnixSockets.socket(false);
            UnixSockets.connect(client, path);
            server = UnixSockets.accept(listener, true);
            assertTrue(server >= 0);

            final MemorySegment buffer = arena.allocate(8);
            final ReceivedFds received = new ReceivedFds();
            assertEquals(FileIo.WOULD_BLOCK, UnixSockets.receive(server, buffer, 8, received, UnixSockets.MSG_DONTWAIT));
            send(client, arena, "ping");
            assertEquals(4, UnixSockets.receive(server, buffer, 8, received, 0));
            FileIo.close(client);
            client = -1;
            assertEquals(0, UnixSockets.receive(server, buffer, 8, received, 0), "peer closed: end of stream");
        } finally {
            FileIo.closeQuietly(client);
            FileIo.closeQuietly(server);
            FileIo.close(listener);
        }
    }

    @Test
    void connectingToNothingIsRefusedWithErrno(@TempDir final Path directory) {
        final int fd = UnixSockets.socket(false);
        try {
            final SysException failure = assertThrows(SysException.class,
                    () -> UnixSockets.connect(fd, directory.resolve("absent.sock").toString()));
            assertEquals(Errno.ENOENT, failure.errno());
            assertThrows(IllegalArgumentException.class, () -> UnixSockets.connect(fd, "x".repeat(200)));
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void sendingToAClosedPeerFailsWithEpipeNotASignal() {
        final int[] pair = UnixSockets.socketPair();
        FileIo.close(pair[1]);
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment data = arena.allocateFrom("lost", StandardCharsets.US_ASCII);
            final SysException failure = assertThrows(SysException.class,
                    () -> UnixSockets.send(pair[0], data, 4, new int[0], 0, 0));
            assertEquals(Errno.EPIPE, failure.errno());
        } finally {
            FileIo.close(pair[0]);
        }
    }

    @Test
    void shutdownWakesAThreadBlockedInReceive() throws Exception {
        final int[] pair = UnixSockets.socketPair();
        try (Arena arena = Arena.ofShared()) {
            final MemorySegment buffer = arena.allocate(8);
            final long[] result = {-2};
            final Thread reader = new Thread(() -> result[0] = UnixSockets.receive(pair[0], buffer, 8, new ReceivedFds(), 0));
            reader.start();
            Thread.sleep(100);
            UnixSockets.shutdownQuietly(pair[0]);
            reader.join(10_000);
            assertFalse(reader.isAlive(), "shutdown woke the blocked reader");
            assertEquals(0, result[0], "a shut-down socket reads end of stream");
        } finally {
            FileIo.close(pair[0]);
            FileIo.close(pair[1]);
        }
    }

    private static void send(final int fd, final Arena arena, final String text, final int... fds) {
        final MemorySegment data = arena.allocateFrom(text, StandardCharsets.US_ASCII);
        assertEquals(text.length(), UnixSockets.send(fd, data, text.length(), fds, fds.length, 0));
    }
}

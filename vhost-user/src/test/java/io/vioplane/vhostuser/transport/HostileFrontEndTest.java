package io.vioplane.vhostuser.transport;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.testing.OpenFds;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.testing.RecordingHandler;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static io.vioplane.vhostuser.testing.TestFrontEnd.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Front-ends that lie (DESIGN.md error policy: "bad vhost-user message: reply with failure or close that
 * connection; the daemon keeps serving others and accepts a reconnect"). After each attack the connection has
 * been answered with a failure or closed, the handler was told once, the next front-end is served, no descriptor
 * leaked, and nothing escaped the event loop.
 */
class HostileFrontEndTest {
    private static final int EFD_FLAGS = EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC;

    @TempDir
    Path directory;

    private ServerFixture fixture;
    private int baselineFds;

    @BeforeEach
    void start() {
        fixture = ServerFixture.replyAcked(directory, () -> new RecordingHandler());
        baselineFds = OpenFds.count();
    }

    @AfterEach
    void serverSurvived() {
        try {
            assertTrue(fixture.awaitIdle(), "the hostile connection ended");
            for (RecordingHandler handler : fixture.handlers) {
                assertTrue(RecordingHandler.await(() -> handler.disconnects() == 1, 10_000), "disconnected once");
            }
            final int servedBefore = fixture.handlers.size();
            try (TestFrontEnd next = TestFrontEnd.connect(fixture.socket)) {
                next.send(GET_FEATURES, FLAGS, new byte[0]);
                assertEquals(RecordingHandler.OFFERED_FEATURES, next.readReply().u64(), "the next front-end is served");
            }
            assertTrue(RecordingHandler.await(() -> fixture.handlers.size() == servedBefore + 1
                    && fixture.handlers.get(servedBefore).disconnects() == 1, 10_000));
            assertEquals(0, fixture.server.turnedAwayConnections(), "no front-end was turned away");
            assertTrue(RecordingHandler.await(() -> OpenFds.count() == baselineFds, 10_000),
                    "descriptors back to baseline: " + baselineFds + " vs " + OpenFds.count());
            assertTrue(fixture.log.stream().noneMatch(line -> line.contains("unexpected")),
                    "nothing escaped: " + fixture.log);
        } finally {
            fixture.close();
        }
    }

    private void assertClosedWith(final TestFrontEnd frontEnd, final String logged) {
        assertTrue(frontEnd.awaitClosedByBackEnd(), "the back-end closed the connection");
        assertTrue(RecordingHandler.await(() -> fixture.log.stream().anyMatch(line -> line.contains(logged)), 10_000),
                "log names the problem '" + logged + "': " + fixture.log);
    }

    private static void assertFailureReply(final TestFrontEnd frontEnd, final int request) {
        final Reply reply = frontEnd.readReply();
        assertEquals(request, reply.request());
        assertEquals(FLAGS_REPLY, reply.flags());
        assertEquals(VhostUserConnection.FAILURE_STATUS, reply.u64(), "a failure ack");
    }

    @Test
    void payloadTooShortWithoutNeedReplyCloses() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_VRING_NUM, FLAGS, new byte[4]);
            assertClosedWith(frontEnd, "SET_VRING_NUM payload of 4 bytes; expected 8");
        }
    }

    @Test
    void payloadTooShortWithNeedReplyGetsAFailureAndServingGoesOn() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_VRING_ADDR, FLAGS_NEED_REPLY, new byte[39]);
            assertFailureReply(frontEnd, SET_VRING_ADDR);
            frontEnd.send(GET_FEATURES, FLAGS, new byte[0]);
            assertEquals(RecordingHandler.OFFERED_FEATURES, frontEnd.readReply().u64());
        }
        assertTrue(fixture.handler(0).received().stream().noneMatch(r -> r.request() == SET_VRING_ADDR),
                "the handler never sees an invalid message");
    }

    @Test
    void payloadTooLongIsRefused() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_FEATURES, FLAGS_NEED_REPLY, new byte[16]);
            assertFailureReply(frontEnd, SET_FEATURES);
            frontEnd.send(SET_OWNER, FLAGS, new byte[100]);
            assertClosedWith(frontEnd, "SET_OWNER payload of 100 bytes; expected 0..8");
        }
    }

    @Test
    void hugeSizeFieldClosesBeforeAnythingMoreIsRead() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.sendRaw(concat(u32s(SET_MEM_TABLE, FLAGS, 0xFFFF_FFF0), new byte[64]));
            assertClosedWith(frontEnd, "announces a payload of 4294967280 bytes");
        }
    }

    @Test
    void sizeJustOverTheLimitCloses() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.sendRaw(u32s(SET_CONFIG, FLAGS, VhostUserHeader.MAX_PAYLOAD_BYTES + 1));
            assertClosedWith(frontEnd, "at most " + VhostUserHeader.MAX_PAYLOAD_BYTES);
        }
    }

    @Test
    void tooManyDescriptorsForTheRequestAreRefusedAndClosed() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket);
             EventFd a = EventFd.create(0, EFD_FLAGS); EventFd b = EventFd.create(0, EFD_FLAGS)) {
            frontEnd.send(SET_VRING_CALL, FLAGS_NEED_REPLY, u64s(0), a.fd(), b.fd());
            assertFailureReply(frontEnd, SET_VRING_CALL);
            frontEnd.send(GET_FEATURES, FLAGS, new byte[0], a.fd());
            assertClosedWith(frontEnd, "GET_FEATURES carried 1 descriptors; expected 0");
        }
    }

    @Test
    void tooFewDescriptorsAndInconsistentNoFdAreRefused() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket);
             EventFd kick = EventFd.create(0, EFD_FLAGS)) {
            frontEnd.send(SET_VRING_KICK, FLAGS_NEED_REPLY, u64s(1));
            assertFailureReply(frontEnd, SET_VRING_KICK);
            frontEnd.send(SET_VRING_KICK, FLAGS_NEED_REPLY, u64s(1 | 0x100), kick.fd());
            assertFailureReply(frontEnd, SET_VRING_KICK);
            frontEnd.send(SET_VRING_KICK, FLAGS_NEED_REPLY, u64s(1 | 0x100));
            assertEquals(0, frontEnd.readReply().u64(), "NOFD without a descriptor is fine");
            final int memfd = MemFd.create("guest", 8192);
            frontEnd.send(SET_MEM_TABLE, FLAGS_NEED_REPLY, concat(u32s(2, 0), u64s(0, 4096, 0x1000, 0),
                    u64s(4096, 4096, 0x2000, 4096)), memfd);
            FileIo.close(memfd);
            assertFailureReply(frontEnd, SET_MEM_TABLE);
        }
        assertTrue(fixture.log.stream().anyMatch(l -> l.contains("NOFD clear but carried no descriptor")),
                fixture.log.toString());
        assertTrue(fixture.log.stream().anyMatch(l -> l.contains("SET_MEM_TABLE carried 1 descriptors; expected 2")),
                fixture.log.toString());
    }

    @Test
    void moreThanEightDescriptorsCloseTheConnection() {
        final EventFd[] eventFds = new EventFd[10];
        final int[] fds = new int[eventFds.length];
        for (int i = 0; i < eventFds.length; i++) {
            eventFds[i] = EventFd.create(0, EFD_FLAGS);
            fds[i] = eventFds[i].fd();
        }
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            final byte[] regions = new byte[8 + 32 * 8];
            frontEnd.sendRaw(message(SET_MEM_TABLE, FLAGS_NEED_REPLY, regions), fds);
            assertClosedWith(frontEnd, "more than 8 descriptors");
        } finally {
            Arrays.stream(eventFds).forEach(EventFd::close);
        }
    }

    @Test
    void badMemoryTablesAreRefused() {
        final int memfd = MemFd.create("guest", 8192);
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_MEM_TABLE, FLAGS_NEED_REPLY, concat(u32s(9, 0), new byte[32 * 8]));
            assertFailureReply(frontEnd, SET_MEM_TABLE);
            frontEnd.send(SET_MEM_TABLE, FLAGS_NEED_REPLY, concat(u32s(2, 0), u64s(0, 8192, 0x1000, 0),
                    u64s(4096, 4096, 0x9000, 0)), memfd, memfd);
            assertFailureReply(frontEnd, SET_MEM_TABLE);
            frontEnd.send(SET_MEM_TABLE, FLAGS_NEED_REPLY, concat(u32s(1, 0), u64s(-4096, 8192, 0x1000, 0)), memfd);
            assertFailureReply(frontEnd, SET_MEM_TABLE);
            frontEnd.send(SET_MEM_TABLE, FLAGS_NEED_REPLY, concat(u32s(1, 0), u64s(0, 0, 0x1000, 0)), memfd);
            assertFailureReply(frontEnd, SET_MEM_TABLE);
        } finally {
            FileIo.close(memfd);
        }
        final List<String> log = fixture.log;
        assertTrue(log.stream().anyMatch(l -> l.contains("SET_MEM_TABLE with 9 regions")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("regions 0 and 1 overlap")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("wraps past 2^64")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("is empty")), log.toString());
    }

    @Test
    void vringIndexOutOfRangeIsRefused() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_VRING_NUM, FLAGS_NEED_REPLY, u32s(256, 256));
            assertFailureReply(frontEnd, SET_VRING_NUM);
            frontEnd.send(SET_VRING_ADDR, FLAGS_NEED_REPLY, concat(u32s(-1, 0), u64s(1, 2, 3, 4)));
            assertFailureReply(frontEnd, SET_VRING_ADDR);
            frontEnd.send(SET_VRING_ENABLE, FLAGS_NEED_REPLY, u32s(0, 2));
            assertFailureReply(frontEnd, SET_VRING_ENABLE);
            frontEnd.send(GET_VRING_BASE, FLAGS, u32s(300, 0));
            assertClosedWith(frontEnd, "vring index 300 is not below 256");
        }
    }

    @Test
    void unknownRequestIdsAreRefusedNeverCrash() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            for (int id : new int[] {0, 44, 1000, -1}) {
                frontEnd.send(id, FLAGS_NEED_REPLY, u64s(0));
                assertFailureReply(frontEnd, id);
            }
            frontEnd.send(99, FLAGS, new byte[0]);
            assertClosedWith(frontEnd, "unknown request id 99");
        }
        assertEquals(List.of(), fixture.handler(0).received(), "the handler never saw them");
    }

    @Test
    void unknownRequestWithoutReplyAckCloses() {
        fixture.close();
        fixture = new ServerFixture(directory, RecordingHandler::new);
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(77, FLAGS_NEED_REPLY, new byte[0]);
            assertClosedWith(frontEnd, "unknown request id 77");
        }
    }

    @Test
    void badVersionFlagsCloseTheConnection() {
        for (int flags : new int[] {0x0, 0x2, 0x3 | 0x8}) {
            try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
                frontEnd.send(GET_FEATURES, flags, new byte[0]);
                assertClosedWith(frontEnd, "protocol version " + (flags & 3) + ", not 1");
            }
            assertTrue(fixture.awaitIdle());
        }
    }

    @Test
    void replyFlagOnARequestIsRefused() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_FEATURES, FLAGS_REPLY | FLAGS_NEED_REPLY, u64s(0));
            assertFailureReply(frontEnd, SET_FEATURES);
        }
    }

    @Test
    void messagesSplitIntoOneByteWritesStillPairWithTheirDescriptors() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket);
             EventFd call0 = EventFd.create(40, EFD_FLAGS); EventFd call1 = EventFd.create(41, EFD_FLAGS)) {
            frontEnd.sendInPieces(message(SET_VRING_CALL, FLAGS_NEED_REPLY, u64s(0)), 1, call0.fd());
            assertEquals(0, frontEnd.readReply().u64());
            final byte[] second = message(SET_VRING_CALL, FLAGS_NEED_REPLY, u64s(1));
            frontEnd.sendRaw(Arrays.copyOfRange(second, 0, 14));
            frontEnd.sendRaw(Arrays.copyOfRange(second, 14, second.length), call1.fd());
            assertEquals(0, frontEnd.readReply().u64(), "a descriptor attached to a payload byte still belongs to it");
            frontEnd.sendInPieces(message(GET_FEATURES, FLAGS, new byte[0]), 1);
            assertEquals(RecordingHandler.OFFERED_FEATURES, frontEnd.readReply().u64());
        }
        final RecordingHandler handler = fixture.handler(0);
        assertEquals(List.of(40L), handler.received().get(0).fdIdentities());
        assertEquals(List.of(41L), handler.received().get(1).fdIdentities());
    }

    @Test
    void endOfFileInsideTheHeaderIsAFramingError() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.sendRaw(new byte[] {1, 0, 0, 0, 1});
        }
        assertTrue(RecordingHandler.await(() -> fixture.log.stream()
                .anyMatch(l -> l.contains("end of file after 5 of 12 header bytes")), 10_000), fixture.log.toString());
    }

    @Test
    void endOfFileInsideThePayloadIsAFramingError() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket); EventFd fd = EventFd.create(0, EFD_FLAGS)) {
            frontEnd.sendRaw(concat(u32s(SET_VRING_ADDR, FLAGS, 40), new byte[3]), fd.fd());
        }
        assertTrue(RecordingHandler.await(() -> fixture.log.stream()
                .anyMatch(l -> l.contains("end of file after 3 of 40 payload bytes of SET_VRING_ADDR")), 10_000),
                fixture.log.toString());
    }

    @Test
    void garbageBytesNeverCrashTheServer() {
        final Random random = new Random(42);
        for (int round = 0; round < 20; round++) {
            final byte[] garbage = new byte[1 + random.nextInt(2000)];
            random.nextBytes(garbage);
            try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
                frontEnd.sendRaw(garbage);
            }
            final int served = round + 1;
            assertTrue(RecordingHandler.await(() -> fixture.handlers.size() == served
                    && fixture.handlers.get(served - 1).disconnects() == 1, 10_000), "round " + round + " was served");
        }
    }

    @Test
    void aFloodOfRefusalsIsCountedButLogsBoundedLines() {
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            for (int i = 0; i < 200; i++) {
                frontEnd.send(500 + i, FLAGS_NEED_REPLY, new byte[0]);
                assertFailureReply(frontEnd, 500 + i);
            }
            assertEquals(200, fixture.server.activeConnection().counters().get(ConnectionCounters.Kind.UNKNOWN_REQUEST),
                    "every refusal is counted");
        }
        final long lines = fixture.log.stream().filter(l -> l.contains("unknown request id")).count();
        assertEquals(VhostUserConnection.LOGGED_FAILURES, lines, "at most " + VhostUserConnection.LOGGED_FAILURES
                + " failure lines per connection");
        assertTrue(fixture.log.stream().anyMatch(l -> l.contains("further ones are only counted")));
    }
}

package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.platform.testing.OpenFds;
import io.vioplane.vhostuser.testing.RecordingHandler;
import io.vioplane.vhostuser.testing.RecordingHandler.Received;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import io.vioplane.vhostuser.testing.TestFrontEnd.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static io.vioplane.vhostuser.testing.TestFrontEnd.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The server and its connections driven by {@link TestFrontEnd} over real AF_UNIX sockets: DPDK's virtio-user
 * sequence replayed with its flags, replies checked byte for byte, descriptors paired with their messages,
 * REPLY_ACK, explicit replies, descriptor hygiene, socket file handling, one front-end at a time.
 */
class VhostUserServerTest {
    private static final int EFD_NONBLOCK_CLOEXEC = EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC;

    @TempDir
    Path directory;

    private static byte[] memoryRegion(final long gpa, final long size, final long userAddr, final long offset) {
        return u64s(gpa, size, userAddr, offset);
    }

    private static byte[] reply(final int request, final byte[] payload) {
        return message(request, FLAGS_REPLY, payload);
    }

    private static byte[] rawReply(final TestFrontEnd frontEnd) {
        final Reply reply = frontEnd.readReply();
        return message(reply.request(), reply.flags(), reply.payload());
    }

    /** PEERS.md's virtio-user sequence, flags 0x1 and 0x9 as DPDK sends them, replies compared byte for byte. */
    @Test
    void dpdkVirtioUserSequenceGetsByteExactReplies() {
        try (ServerFixture fixture = new ServerFixture(directory);
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_OWNER, FLAGS, new byte[0]);
            frontEnd.send(GET_FEATURES, FLAGS, new byte[0]);
            assertArrayEquals(reply(GET_FEATURES, u64s(RecordingHandler.OFFERED_FEATURES)), rawReply(frontEnd));
            frontEnd.send(GET_PROTOCOL_FEATURES, FLAGS, new byte[0]);
            assertArrayEquals(reply(GET_PROTOCOL_FEATURES, u64s(0x10009)), rawReply(frontEnd));
            frontEnd.send(SET_PROTOCOL_FEATURES, FLAGS, u64s(0x10009));
            final List<Integer> callFds = new ArrayList<>();
            for (int ring = 0; ring < 2; ring++) {
                final EventFd call = EventFd.create(100 + ring, EFD_NONBLOCK_CLOEXEC);
                frontEnd.send(SET_VRING_CALL, FLAGS, u64s(ring), call.fd());
                call.close();
                callFds.add(100 + ring);
            }
            frontEnd.send(SET_FEATURES, FLAGS, u64s(0x150008000L));
            frontEnd.send(SET_STATUS, FLAGS_NEED_REPLY, u64s(0xb));
            assertArrayEquals(reply(SET_STATUS, u64s(0)), rawReply(frontEnd), "REPLY_ACK success");
            for (int i = 0; i < 2; i++) {
                frontEnd.send(GET_STATUS, FLAGS, new byte[0]);
                assertArrayEquals(reply(GET_STATUS, u64s(0xb)), rawReply(frontEnd));
            }
            final long guestBytes = 2L << 20;
            final int memfd = MemFd.create("guest", guestBytes);
            frontEnd.send(SET_MEM_TABLE, FLAGS_NEED_REPLY,
                    concat(u32s(1, 0), memoryRegion(0x7f0000000000L, guestBytes, 0x7f0000000000L, 0)), memfd);
            FileIo.close(memfd);
            assertArrayEquals(reply(SET_MEM_TABLE, u64s(0)), rawReply(frontEnd));
            for (int ring = 0; ring < 2; ring++) {
                frontEnd.send(SET_VRING_NUM, FLAGS, u32s(ring, 256));
                frontEnd.send(SET_VRING_BASE, FLAGS, u32s(ring, 0));
                frontEnd.send(SET_VRING_ADDR, FLAGS, concat(u32s(ring, 0), u64s(0x1000, 0x3000, 0x2000, 0)));
                final EventFd kick = EventFd.create(200 + ring, EFD_NONBLOCK_CLOEXEC);
                frontEnd.send(SET_VRING_KICK, FLAGS, u64s(ring), kick.fd());
                kick.close();
            }
            for (int ring = 0; ring < 2; ring++) {
                frontEnd.send(SET_VRING_ENABLE, FLAGS, u32s(ring, 1));
            }
            frontEnd.send(SET_STATUS, FLAGS_NEED_REPLY, u64s(0xf));
            assertArrayEquals(reply(SET_STATUS, u64s(0)), rawReply(frontEnd));
            frontEnd.send(SET_VRING_ENABLE, FLAGS, u32s(0, 0));
            frontEnd.send(GET_VRING_BASE, FLAGS, u32s(0, 0));
            assertArrayEquals(reply(GET_VRING_BASE, u32s(0, 0)), rawReply(frontEnd));

            final RecordingHandler handler = fixture.handler(0);
            final List<Received> received = handler.received();
            assertEquals(List.of("SET_OWNER", "GET_FEATURES", "GET_PROTOCOL_FEATURES", "SET_PROTOCOL_FEATURES",
                    "SET_VRING_CALL", "SET_VRING_CALL", "SET_FEATURES", "SET_STATUS", "GET_STATUS", "GET_STATUS",
                    "SET_MEM_TABLE", "SET_VRING_NUM", "SET_VRING_BASE", "SET_VRING_ADDR", "SET_VRING_KICK",
                    "SET_VRING_NUM", "SET_VRING_BASE", "SET_VRING_ADDR", "SET_VRING_KICK", "SET_VRING_ENABLE",
                    "SET_VRING_ENABLE", "SET_STATUS", "SET_VRING_ENABLE", "GET_VRING_BASE"), handler.requestNames());
            assertEquals(List.of(100L), received.get(4).fdIdentities(), "ring 0's call eventfd came with its message");
            assertEquals(List.of(101L), received.get(5).fdIdentities(), "ring 1's call eventfd came with its message");
            assertEquals(List.of(guestBytes), received.get(10).fdIdentities(),
                    "the guest memfd came with SET_MEM_TABLE");
            assertEquals(List.of(200L), received.get(14).fdIdentities());
            assertEquals(List.of(201L), received.get(18).fdIdentities());
            assertEquals(0x9, received.get(7).flags());
            assertEquals(0x1, received.get(8).flags());
        }
    }

    private static void roundTrip(final TestFrontEnd frontEnd) {
        frontEnd.send(GET_FEATURES, FLAGS, new byte[0]);
        assertEquals(RecordingHandler.OFFERED_FEATURES, frontEnd.readReply().u64());
    }

    @Test
    void replyAckReportsSuccessAndFailureAndKeepsServing() {
        try (ServerFixture fixture = ServerFixture.replyAcked(directory, () -> new RecordingHandler()
                .refusing(m -> m.request() == SET_VRING_NUM && m.vringNum() == 0, false));
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_VRING_NUM, FLAGS_NEED_REPLY, u32s(0, 256));
            assertArrayEquals(reply(SET_VRING_NUM, u64s(0)), rawReply(frontEnd));
            frontEnd.send(SET_VRING_NUM, FLAGS_NEED_REPLY, u32s(0, 0));
            assertArrayEquals(reply(SET_VRING_NUM, u64s(VhostUserConnection.FAILURE_STATUS)), rawReply(frontEnd));
            roundTrip(frontEnd);
            assertEquals(1, fixture.handler(0).connects());
            assertTrue(fixture.log.stream().anyMatch(line -> line.contains("refused SET_VRING_NUM on purpose")),
                    "the refusal is logged: " + fixture.log);
        }
    }

    @Test
    void needReplyWithoutNegotiatedReplyAckGetsNoAcknowledgement() {
        try (ServerFixture fixture = new ServerFixture(directory);
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_STATUS, FLAGS_NEED_REPLY, u64s(0xb));
            frontEnd.send(GET_FEATURES, FLAGS, new byte[0]);
            assertArrayEquals(reply(GET_FEATURES, u64s(RecordingHandler.OFFERED_FEATURES)), rawReply(frontEnd),
                    "the first reply is GET_FEATURES': SET_STATUS got no ack without REPLY_ACK");
        }
    }

    @Test
    void requestsWithExplicitRepliesGetExactlyTheHandlersBody() {
        try (ServerFixture fixture = ServerFixture.replyAcked(directory, () -> new RecordingHandler());
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(GET_QUEUE_NUM, FLAGS_NEED_REPLY, new byte[0]);
            assertArrayEquals(reply(GET_QUEUE_NUM, u64s(1)), rawReply(frontEnd), "no extra ack with NEED_REPLY");
            frontEnd.send(GET_MAX_MEM_SLOTS, FLAGS, new byte[0]);
            assertArrayEquals(reply(GET_MAX_MEM_SLOTS, u64s(8)), rawReply(frontEnd));
            frontEnd.send(SET_VRING_BASE, FLAGS, u32s(3, 77));
            frontEnd.send(GET_VRING_BASE, FLAGS, u32s(3, 0));
            assertArrayEquals(reply(GET_VRING_BASE, u32s(3, 77)), rawReply(frontEnd));
            frontEnd.send(GET_CONFIG, FLAGS, concat(u32s(4, 8, 0), new byte[8]));
            final byte[] config = Arrays.copyOfRange(new RecordingHandler().config(), 4, 12);
            assertArrayEquals(reply(GET_CONFIG, concat(u32s(4, 8, 0), config)), rawReply(frontEnd));
            final int log = MemFd.create("log", 4096);
            frontEnd.send(SET_LOG_BASE, FLAGS, u64s(4096, 0), log);
            FileIo.close(log);
            assertArrayEquals(reply(SET_LOG_BASE, new byte[0]), rawReply(frontEnd), "SET_LOG_BASE: empty reply");
            frontEnd.send(IOTLB_MSG, FLAGS,
                    concat(u64s(0x1000, 0x1000, 0x7f00_0000_0000L), new byte[] {3, 2, 0, 0, 0, 0, 0, 0}));
            assertArrayEquals(reply(IOTLB_MSG, u64s(0)), rawReply(frontEnd));
            frontEnd.send(GET_INFLIGHT_FD, FLAGS, concat(u64s(0, 0), u32s(2 | (256 << 16)), new byte[4]));
            final Reply inflight = frontEnd.readReply();
            try {
                assertEquals(GET_INFLIGHT_FD, inflight.request());
                assertEquals(FLAGS_REPLY, inflight.flags());
                assertArrayEquals(concat(u64s(4096, 0), u32s(2 | (256 << 16)), new byte[4]), inflight.payload());
                assertTrue(inflight.fd() >= 0, "the inflight buffer's descriptor comes with the reply");
                assertEquals(4096, FileIo.sizeOf(inflight.fd()));
            } finally {
                FileIo.closeQuietly(inflight.fd());
            }
        }
    }

    @Test
    void refusedGetConfigGetsAnEmptyReplyAndTheConnectionGoesOn() {
        try (ServerFixture fixture = new ServerFixture(directory,
                () -> new RecordingHandler().refusing(m -> m.request() == GET_CONFIG, false));
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(GET_CONFIG, FLAGS, concat(u32s(0, 16, 0), new byte[16]));
            assertArrayEquals(reply(GET_CONFIG, new byte[0]), rawReply(frontEnd));
            roundTrip(frontEnd);
        }
    }

    @Test
    void refusingARequestWhoseReplyCannotSayNoClosesTheConnection() {
        try (ServerFixture fixture = new ServerFixture(directory,
                () -> new RecordingHandler().refusing(m -> m.request() == GET_FEATURES, false));
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(GET_FEATURES, FLAGS, new byte[0]);
            assertTrue(frontEnd.awaitClosedByBackEnd(), "a front-end waiting for GET_FEATURES must not hang");
            assertTrue(fixture.awaitIdle());
            assertEquals(1, fixture.handler(0).disconnects());
        }
    }

    @Test
    void refusalWithoutReplyAckKeepsTheConnectionUnlessTheHandlerAsksToClose() {
        try (ServerFixture fixture = new ServerFixture(directory,
                () -> new RecordingHandler().refusing(m -> m.request() == SET_VRING_NUM, false));
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_VRING_NUM, FLAGS, u32s(0, 256));
            roundTrip(frontEnd);
            assertEquals(1, fixture.handler(0).received().stream().filter(r -> r.request() == SET_VRING_NUM).count());
        }
        try (ServerFixture fixture = ServerFixture.replyAcked(directory,
                () -> new RecordingHandler().refusing(m -> m.request() == SET_VRING_NUM, true));
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(SET_VRING_NUM, FLAGS_NEED_REPLY, u32s(0, 256));
            assertArrayEquals(reply(SET_VRING_NUM, u64s(VhostUserConnection.FAILURE_STATUS)), rawReply(frontEnd),
                    "the failure is reported before the close");
            assertTrue(frontEnd.awaitClosedByBackEnd());
        }
    }

    @Test
    void handlerThatWritesNoReplyBodyIsCaughtAndTheConnectionCloses() {
        try (ServerFixture fixture = new ServerFixture(directory,
                () -> new RecordingHandler().forgettingReplyTo(GET_PROTOCOL_FEATURES));
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            frontEnd.send(GET_PROTOCOL_FEATURES, FLAGS, new byte[0]);
            assertTrue(frontEnd.awaitClosedByBackEnd());
            assertTrue(fixture.awaitIdle());
            assertTrue(fixture.log.stream().anyMatch(line -> line.contains("wrote no reply to GET_PROTOCOL_FEATURES")
                    && line.contains("handler bug")), "log: " + fixture.log);
        }
    }

    @Test
    void handlerThatThrowsUnexpectedlyClosesOnlyItsConnection() {
        try (ServerFixture fixture = ServerFixture.replyAcked(directory,
                () -> new RecordingHandler().crashingOn(SET_VRING_ADDR))) {
            try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
                frontEnd.send(SET_VRING_ADDR, FLAGS_NEED_REPLY, concat(u32s(0, 0), u64s(1, 2, 3, 4)));
                assertArrayEquals(reply(SET_VRING_ADDR, u64s(VhostUserConnection.FAILURE_STATUS)), rawReply(frontEnd));
                assertTrue(frontEnd.awaitClosedByBackEnd());
            }
            assertTrue(fixture.awaitIdle());
            try (TestFrontEnd next = TestFrontEnd.connect(fixture.socket)) {
                roundTrip(next);
            }
            assertEquals(1, fixture.handler(0).disconnects());
        }
    }

    @Test
    void descriptorsTheHandlerDoesNotTakeAreClosed() {
        try (ServerFixture fixture = ServerFixture.replyAcked(directory, () -> new RecordingHandler());
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            roundTrip(frontEnd);
            final int baseline = OpenFds.count();
            final int[] pair = UnixSockets.socketPair();
            frontEnd.send(SET_BACKEND_REQ_FD, FLAGS, new byte[0], pair[0]);
            final EventFd logFd = EventFd.create(0, EFD_NONBLOCK_CLOEXEC);
            frontEnd.send(SET_LOG_FD, FLAGS, new byte[0], logFd.fd());
            final int region = MemFd.create("region", 4096);
            frontEnd.send(REM_MEM_REG, FLAGS, concat(u64s(0), memoryRegion(0x1000, 4096, 0x7000, 0)), region);
            frontEnd.send(SET_INFLIGHT_FD, FLAGS, concat(u64s(4096, 0), u32s(2 | (256 << 16)), new byte[4]), region);
            frontEnd.send(SET_VRING_NUM, FLAGS_NEED_REPLY, u32s(0, 256), region, region);
            assertArrayEquals(reply(SET_VRING_NUM, u64s(VhostUserConnection.FAILURE_STATUS)), rawReply(frontEnd),
                    "descriptors on SET_VRING_NUM: refused, and closed");
            roundTrip(frontEnd);
            FileIo.close(pair[0]);
            FileIo.close(pair[1]);
            logFd.close();
            FileIo.close(region);
            assertEquals(baseline, OpenFds.count(), "every descriptor the handler left was closed");
        }
    }

    @Test
    void socketFileHasModeSixHundredUnlessToldOtherwise() throws Exception {
        try (ServerFixture fixture = new ServerFixture(directory)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fixture.socket)));
        }
        final Path other = directory.resolve("group.sock");
        try (VhostUserServer server = VhostUserServer.builder(other, RecordingHandler::new).socketMode(0660)
                .log(ErrorLog.printingTo(line -> { })).start()) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(other)));
            assertEquals(other.toAbsolutePath(), server.socketPath());
        }
        assertFalse(Files.exists(other), "close removes the socket file");
    }

    @Test
    void oneFrontEndAtATimeAndServingGoesOnAfterDisconnects() {
        try (ServerFixture fixture = new ServerFixture(directory)) {
            try (TestFrontEnd first = TestFrontEnd.connect(fixture.socket)) {
                roundTrip(first);
                try (TestFrontEnd second = TestFrontEnd.connect(fixture.socket)) {
                    assertTrue(second.awaitClosedByBackEnd(), "a second front-end is closed at once");
                }
                roundTrip(first);
                assertEquals(1, fixture.server.turnedAwayConnections());
                assertTrue(fixture.log.stream().anyMatch(line -> line.contains("one front-end at a time")));
            }
            assertTrue(fixture.awaitIdle());
            for (int i = 0; i < 3; i++) {
                try (TestFrontEnd again = TestFrontEnd.connect(fixture.socket)) {
                    roundTrip(again);
                }
                assertTrue(fixture.awaitIdle());
            }
            assertEquals(4, fixture.handlers.size(), "a fresh handler per served connection");
            for (RecordingHandler handler : fixture.handlers) {
                assertTrue(RecordingHandler.await(() -> handler.disconnects() == 1, 10_000));
                assertEquals(1, handler.connects());
                assertEquals(1, handler.disconnects(), "disconnected exactly once");
            }
        }
    }

    @Test
    void staleSocketFileIsReplacedButALiveOneOrAPlainFileIsNot() throws Exception {
        final Path socket = directory.resolve("vhost.sock");
        final int stale = UnixSockets.socket(false);
        UnixSockets.bind(stale, socket.toString());
        FileIo.close(stale);
        assertTrue(Files.exists(socket));
        try (ServerFixture fixture = new ServerFixture(directory);
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            roundTrip(frontEnd);
            final IllegalStateException live = assertThrows(IllegalStateException.class,
                    () -> VhostUserServer.builder(socket, RecordingHandler::new).log(ErrorLog.printingTo(line -> { })).start());
            assertTrue(live.getMessage().contains("another back-end is listening"), live.getMessage());
            roundTrip(frontEnd);
        }
        final Path plain = directory.resolve("plain");
        Files.writeString(plain, "not a socket");
        assertThrows(IllegalStateException.class,
                () -> VhostUserServer.builder(plain, RecordingHandler::new).log(ErrorLog.printingTo(line -> { })).start());
        assertEquals("not a socket", Files.readString(plain));
    }

    @Test
    void closeEndsTheConnectionAndRemovesTheSocketFile() {
        final ServerFixture fixture = new ServerFixture(directory);
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            roundTrip(frontEnd);
            fixture.close();
            assertTrue(frontEnd.awaitClosedByBackEnd());
            assertEquals(1, fixture.handler(0).disconnects());
            assertFalse(Files.exists(fixture.socket));
        }
    }

    @Test
    void perConnectionCountersArePublishedInTheCountersFile() throws Exception {
        final Path runDir = Files.createDirectory(directory.resolve("run"));
        final Path socket = directory.resolve("counted.sock");
        try (CountersFile counters = CountersFile.create(runDir, "vhost-user test", 64 * 128, 8 * 1024);
             VhostUserServer server = VhostUserServer.builder(socket, RecordingHandler::new).replyAckFromStart()
                     .counters(counters).log(ErrorLog.printingTo(line -> { })).start();
             TestFrontEnd frontEnd = TestFrontEnd.connect(socket)) {
            roundTrip(frontEnd);
            assertNotNull(server.activeConnection());
            frontEnd.send(4242, FLAGS_NEED_REPLY, new byte[0]);
            assertEquals(VhostUserConnection.FAILURE_STATUS, frontEnd.readReply().u64());
            final java.util.Map<String, Long> values = new java.util.HashMap<>();
            counters.reader().forEach((id, typeId, key, label) ->
                    values.put(label, counters.reader().getCounterValue(id)));
            assertEquals(2L, values.get("vhost-user[" + socket + "#1] messages"), values.toString());
            assertEquals(1L, values.get("vhost-user[" + socket + "#1] unknown requests"), values.toString());
            assertEquals(1L, values.get("vhost-user[" + socket + "#1] failure replies"), values.toString());
        }
    }

    @Test
    void aHandlerClosingItsConnectionInsideHandleGetsNoReplyAndOneDisconnect() {
        final AtomicReference<ServerFixture> served = new AtomicReference<>();
        try (ServerFixture fixture = ServerFixture.replyAcked(directory,
                () -> new RecordingHandler().closingOn(GET_FEATURES, () -> served.get().server.activeConnection()));
             TestFrontEnd frontEnd = TestFrontEnd.connect(fixture.socket)) {
            served.set(fixture);
            frontEnd.send(SET_OWNER, FLAGS_NEED_REPLY, new byte[0]);
            assertEquals(0, frontEnd.readReply().u64());
            frontEnd.send(GET_FEATURES, FLAGS, new byte[0]);
            assertTrue(frontEnd.awaitClosedByBackEnd(), "closed, without a reply");
            assertTrue(RecordingHandler.await(() -> fixture.handler(0).disconnects() == 1, 10_000));
            assertTrue(fixture.log.stream().anyMatch(line -> line.contains("the handler closed it on purpose")));
        }
    }

    @Test
    void aServerClosedFromItsOwnEventLoopDoesNotDeadlock() {
        final Path socket = directory.resolve("self.sock");
        final VhostUserServer server = VhostUserServer.builder(socket, RecordingHandler::new).log(ErrorLog.printingTo(line -> { })).start();
        server.eventLoop().submit(server::close).syncUninterruptibly();
        assertTrue(RecordingHandler.await(() -> server.eventLoop().isTerminated(), 10_000));
        assertFalse(Files.exists(socket));
    }
}

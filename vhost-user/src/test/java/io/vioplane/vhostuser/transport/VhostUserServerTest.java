package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.platform.testing.OpenFds;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
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
            assertEquals(List.of(guestBytes), received.get(10).fdIdentities(), "the guest memfd came with SET_MEM_TABLE");
            assertEquals(List.of(200L), received.get(14).fdIdentities());
            assertEquals(List.of(201L), received.get(18).fdIdentities());
            assertEquals(0x9, received.get(7).flags());
            assertEquals(0x1, received.get(8).flags());
        }
    }
}

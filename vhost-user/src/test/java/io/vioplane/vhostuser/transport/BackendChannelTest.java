package io.vioplane.vhostuser.transport;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.VhostUserException;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import io.vioplane.vhostuser.testing.TestFrontEnd.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static io.vioplane.vhostuser.testing.TestFrontEnd.*;
import static org.junit.jupiter.api.Assertions.*;

/** The back-end request channel over a real socket pair, with the test front-end answering (or not). */
class BackendChannelTest {
    private BackendChannel channel;
    private TestFrontEnd frontEnd;

    @BeforeEach
    void connect() {
        final int[] pair = UnixSockets.socketPair();
        channel = new BackendChannel(pair[0]);
        frontEnd = TestFrontEnd.over(pair[1]);
    }

    @AfterEach
    void close() {
        channel.close();
        frontEnd.close();
    }

    @Test
    void configChangeWithoutReplyIsOneHeader() {
        channel.configChanged(false, 1_000);
        final Reply message = frontEnd.readReply();
        assertEquals(BACKEND_CONFIG_CHANGE_MSG, message.request());
        assertEquals(FLAGS, message.flags());
        assertEquals(0, message.payload().length);
    }

    @Test
    void configChangeWithNeedReplyWaitsForTheAck() {
        final CompletableFuture<Reply> frontEndSaw = CompletableFuture.supplyAsync(() -> {
            final Reply request = frontEnd.readReply();
            frontEnd.send(request.request(), FLAGS_REPLY, u64s(0));
            return request;
        });
        channel.configChanged(true, 10_000);
        assertEquals(FLAGS_NEED_REPLY, frontEndSaw.join().flags());
    }

    @Test
    void aRefusingAckIsReported() {
        CompletableFuture.runAsync(() -> frontEnd.send(frontEnd.readReply().request(), FLAGS_REPLY, u64s(5)));
        assertEquals(5, channel.sendAwaitingAck(BACKEND_CONFIG_CHANGE_MSG, MemorySegment.NULL, -1, 10_000));
    }

    @Test
    void noAckWithinTheTimeoutFails() {
        final VhostUserException timeout = assertThrows(VhostUserException.class,
                () -> channel.sendAwaitingAck(BACKEND_CONFIG_CHANGE_MSG, MemorySegment.NULL, -1, 50));
        assertTrue(timeout.getMessage().contains("in time"), timeout.getMessage());
        assertTrue(timeout.closeConnection());
    }

    @Test
    void aMalformedAckFails() {
        CompletableFuture.runAsync(() -> {
            frontEnd.readReply();
            frontEnd.send(BACKEND_IOTLB_MSG, FLAGS_REPLY, u64s(0));
        });
        assertThrows(VhostUserException.class,
                () -> channel.sendAwaitingAck(BACKEND_CONFIG_CHANGE_MSG, MemorySegment.NULL, -1, 10_000));
    }

    @Test
    void aFrontEndThatHangsUpFails() {
        frontEnd.close();
        assertThrows(RuntimeException.class,
                () -> channel.sendAwaitingAck(BACKEND_CONFIG_CHANGE_MSG, MemorySegment.NULL, -1, 10_000));
    }

    @Test
    void iotlbMissAndInBandCallHaveTheSpecLayouts() {
        channel.iotlbMiss(0x1234_5000L, 3, 1_000);
        final Reply miss = frontEnd.readReply();
        assertEquals(BACKEND_IOTLB_MSG, miss.request());
        assertArrayEquals(concat(u64s(0x1234_5000L, 0, 0), new byte[] {3, 1, 0, 0, 0, 0, 0, 0}), miss.payload());
        channel.vringCall(7, 1_000);
        final Reply call = frontEnd.readReply();
        assertEquals(BACKEND_VRING_CALL, call.request());
        assertArrayEquals(u32s(7, 0), call.payload());
    }

    @Test
    void aDescriptorCanTravelWithARequest() {
        try (EventFd notifier = EventFd.create(9, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC)) {
            channel.send(BACKEND_VRING_HOST_NOTIFIER_MSG, MemorySegment.ofArray(u64s(0, 4096, 0)), notifier.fd(),
                    1_000);
            final Reply message = frontEnd.readReply();
            try {
                assertEquals(24, message.payload().length);
                assertEquals(9, EventFd.drain(message.fd()), "the same eventfd arrived");
            } finally {
                FileIo.closeQuietly(message.fd());
            }
        }
    }
}

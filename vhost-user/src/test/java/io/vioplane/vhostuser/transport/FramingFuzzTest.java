package io.vioplane.vhostuser.transport;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.platform.testing.OpenFds;
import io.vioplane.vhostuser.protocol.ReplyWriter;
import io.vioplane.vhostuser.protocol.MessageProbe;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.testing.RecordingHandler;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import org.junit.jupiter.api.AfterAll;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Coverage-guided fuzzing (Jazzer) of framing and validation together: a fuzzed front-end writes arbitrary byte
 * streams (well-framed messages with fuzzed ids, flags and payloads, headers that lie about their size, raw
 * garbage), cut into chunks, each with 0..10 descriptors attached, into a real socket pair whose other end is a
 * {@link VhostUserConnection} on an epoll event loop, then hangs up.
 *
 * <p>Invariants: the connection ends by itself once the front-end hangs up, the handler is told exactly once,
 * no exception escapes the event loop, the handler never sees a message whose accessors (for its request type)
 * fail, and every descriptor that was sent is closed again.
 *
 * <p>Run normally, the target replays its stored inputs (src/test/resources/.../FramingFuzzTestInputs) as
 * regression tests; with {@code JAZZER_FUZZ=1} it fuzzes (a separate surefire execution, like vring's).
 */
class FramingFuzzTest {
    private static final IoEventLoopGroup GROUP = EventLoops.newControlPlane("vhost-user-fuzz");
    private static final int[] INTERESTING_FLAGS = {0x1, 0x9, 0x5, 0x0, 0x2, 0xd};

    @AfterAll
    static void stop() {
        EventLoops.shutdown(GROUP);
    }

    /** Reads every field the validator promised for the message's request type, then lets the recorder answer. */
    private static final class ProbingHandler implements VhostUserHandler {
        private final RecordingHandler recorder;

        ProbingHandler(final RecordingHandler recorder) {
            this.recorder = recorder;
        }

        @Override
        public void connected() {
            recorder.connected();
        }

        @Override
        public void handle(final VhostUserMessage request, final ReplyWriter reply) {
            MessageProbe.readPromisedFields(request);
            recorder.handle(request, reply);
        }

        @Override
        public void disconnected() {
            recorder.disconnected();
        }
    }

    private static byte[] header(final int request, final int flags, final int size) {
        return ByteBuffer.allocate(VhostUserHeader.HEADER_BYTES).order(ByteOrder.nativeOrder())
                .putInt(request).putInt(flags).putInt(size).array();
    }

    private static byte[] chunk(final FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 3)) {
            case 0, 1 -> {
                final int request = data.consumeBoolean() ? data.consumeInt(1, 43) : data.consumeInt();
                final int flags = data.consumeBoolean()
                        ? INTERESTING_FLAGS[data.consumeInt(0, INTERESTING_FLAGS.length - 1)] : data.consumeInt();
                final byte[] payload = data.consumeBytes(data.consumeInt(0, 300));
                yield TestFrontEnd.concat(header(request, flags, payload.length), payload);
            }
            case 2 -> TestFrontEnd.concat(header(data.consumeInt(1, 43), 0x1, data.consumeInt()),
                    data.consumeBytes(data.consumeInt(0, 64)));
            default -> data.consumeBytes(data.consumeInt(0, 512));
        };
    }

    @FuzzTest(maxDuration = "60s")
    void connectionSurvivesAnyByteStream(final FuzzedDataProvider data) throws Exception {
        final boolean replyAck = data.consumeBoolean();
        final RecordingHandler recorder = new RecordingHandler();
        final int baselineFds = OpenFds.count();
        final int[] pair = UnixSockets.socketPair();
        FileIo.setNonBlocking(pair[0], true);
        final List<String> log = new CopyOnWriteArrayList<>();
        final CountDownLatch closed = new CountDownLatch(1);
        final IoEventLoop loop = GROUP.next();
        final ConnectionCounters counters = new ConnectionCounters(null, "fuzz");
        loop.submit(() -> VhostUserConnection.open(pair[0], "fuzz", new ProbingHandler(recorder), loop, counters,
                ErrorLog.printingTo(log::add), replyAck, closed::countDown)).get();
        try (TestFrontEnd frontEnd = TestFrontEnd.over(pair[1])) {
            final int chunks = data.consumeInt(1, 12);
            for (int i = 0; i < chunks && data.remainingBytes() > 0; i++) {
                final byte[] bytes = chunk(data);
                final int fdCount = data.consumeInt(0, 3) == 0 ? data.consumeInt(0, 10) : 0;
                final int[] fds = new int[fdCount];
                for (int f = 0; f < fdCount; f++) {
                    fds[f] = EventFd.create(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC).fd();
                }
                try {
                    if (bytes.length > 0) {
                        if (data.consumeBoolean()) {
                            frontEnd.sendInPieces(bytes, data.consumeInt(1, 16), fds);
                        } else {
                            frontEnd.sendRaw(bytes, fds);
                        }
                    }
                } catch (SysException peerGone) {
                    break;
                } finally {
                    for (int fd : fds) {
                        FileIo.closeQuietly(fd);
                    }
                }
            }
        }
        assertTrue(closed.await(10, TimeUnit.SECONDS), "the connection ends after the front-end hangs up: " + log);
        assertEquals(1, recorder.connects());
        assertEquals(1, recorder.disconnects(), "disconnected exactly once");
        assertEquals(0, counters.get(ConnectionCounters.Kind.HANDLER_ERRORS),
                "a validated message never fails the handler's field reads: " + log);
        assertTrue(log.stream().noneMatch(line -> line.contains("unexpected")), "nothing escaped: " + log);
        assertEquals(baselineFds, OpenFds.count(), "every descriptor closed");
    }
}

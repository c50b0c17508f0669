package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vhostuser.protocol.ReplyWriter;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static io.vioplane.vhostuser.testing.TestFrontEnd.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The steady path (frame, validate, dispatch, acknowledge) allocates nothing per message on the event-loop thread:
 * bytes allocated by that thread, measured with {@link com.sun.management.ThreadMXBean}, over many messages.
 */
class SteadyPathAllocationTest {
    private static final int WARM_UP_MESSAGES = 20_000;
    private static final int MEASURED_MESSAGES = 20_000;
    /**
     * Slack for one-off allocations (measured here: 0 bytes over 20,000 messages); one boxed value per message
     * would already be 16.
     */
    private static final long ALLOWED_BYTES_PER_MESSAGE = 1;
    /**
     * Rounds measured until one is clean: an allocation per message shows in every round (16 B x 20,000), while a
     * one-off (a loaded machine's JIT deoptimisation and recompilation, seen once at 438 KB) shows in one.
     */
    private static final int MEASURED_ROUNDS = 3;

    @TempDir
    Path directory;

    /** Reads its fields and answers, allocating nothing. */
    private static final class QuietHandler implements VhostUserHandler {
        long sum;

        @Override
        public void connected() {
        }

        @Override
        public void handle(final VhostUserMessage request, final ReplyWriter reply) {
            if (request.request() == GET_VRING_BASE) {
                reply.vringState(request.vringIndex(), 7);
            } else {
                sum += request.vringIndex() + request.vringNum();
            }
        }

        @Override
        public void disconnected() {
        }
    }

    private static void exchange(final TestFrontEnd frontEnd, final int messages) {
        for (int i = 0; i < messages; i++) {
            if ((i & 1) == 0) {
                frontEnd.send(SET_VRING_NUM, FLAGS_NEED_REPLY, u32s(i & 0xff, 256));
            } else {
                frontEnd.send(GET_VRING_BASE, FLAGS, u32s(i & 0xff, 0));
            }
            frontEnd.readReply();
        }
    }

    @Test
    void framingValidationAndRepliesAllocateNothingPerMessage() {
        final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final Path socket = directory.resolve("alloc.sock");
        try (VhostUserServer server = VhostUserServer.builder(socket, QuietHandler::new).replyAckFromStart().log(ErrorLog.printingTo(line -> { })).start();
             TestFrontEnd frontEnd = TestFrontEnd.connect(socket)) {
            final long loopThread = server.eventLoop().submit(() -> Thread.currentThread().threadId())
                    .syncUninterruptibly().getNow();
            exchange(frontEnd, WARM_UP_MESSAGES);
            long allocated = Long.MAX_VALUE;
            for (int round = 0; round < MEASURED_ROUNDS && allocated > ALLOWED_BYTES_PER_MESSAGE * MEASURED_MESSAGES;
                 round++) {
                final long before = threads.getThreadAllocatedBytes(loopThread);
                exchange(frontEnd, MEASURED_MESSAGES);
                allocated = threads.getThreadAllocatedBytes(loopThread) - before;
                System.out.println("event-loop thread allocated " + allocated + " bytes over " + MEASURED_MESSAGES
                        + " messages (" + (double) allocated / MEASURED_MESSAGES + " B/message), round " + round);
            }
            assertTrue(allocated <= ALLOWED_BYTES_PER_MESSAGE * MEASURED_MESSAGES,
                    allocated + " bytes over " + MEASURED_MESSAGES + " messages in every one of " + MEASURED_ROUNDS
                            + " rounds");
        }
    }
}

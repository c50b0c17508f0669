package io.vioplane.virtioblk;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.IoVecArray;
import io.vioplane.virtioblk.backend.BlockBackend;
import io.vioplane.virtioblk.backend.BlockQueue;
import io.vioplane.virtioblk.testkit.BlkDriver;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * When requests reach the backend, and what the device tells its data plane meanwhile: over a backend whose
 * operations complete only when the test says so.
 */
class RequestSubmissionTest {
    private static final long FEATURES = VirtioBlkFeature.offered(false, 1)
            & ~VirtioFeature.mask(VirtioFeature.RING_PACKED, VirtioFeature.IN_ORDER);

    @Test
    void eachRequestOfABurstGoesToTheBackendAsSoonAsItIsPrepared() {
        final HeldBackend backend = new HeldBackend();
        try (BlkDriver blk = BlkDriver.start(backend, BlkLimits.DEFAULT, FEATURES, true, Counters.inMemory(4096))) {
            final long buffer = blk.allocate(8 * 4096);
            for (int i = 0; i < 8; i++) {
                blk.header(BlkRequestType.IN, 8L * i).writable(buffer + 4096L * i, 4096).status().submit();
            }
            blk.device().poll();
            assertEquals(List.of(1, 1, 1, 1, 1, 1, 1, 1), backend.queue.operationsPerSubmit,
                    "eight submissions of one read each, not one of eight after the last was parsed");
            backend.queue.completeAll();
            blk.awaitUsed(8);
            assertEquals(8, blk.device().queueCounters(0).reads());
        }
    }

    @Test
    void theDataPlaneIsToldToParkRatherThanSpinWhileOperationsAreInFlight() {
        final HeldBackend backend = new HeldBackend();
        try (BlkDriver blk = BlkDriver.start(backend, BlkLimits.DEFAULT, FEATURES, true, Counters.inMemory(4096))) {
            assertFalse(blk.device().spinningDelaysWork(), "nothing in flight: spinning waits for the driver");
            final long buffer = blk.allocate(4096);
            final int t = blk.header(BlkRequestType.OUT, 0).readable(buffer, 4096).status().submit();
            blk.device().poll();
            assertTrue(blk.device().spinningDelaysWork(), "a write in flight: its completion needs this CPU");
            backend.queue.completeAll();
            blk.awaitUsed(1);
            assertEquals(BlkRequestType.S_OK, blk.status(t));
            assertFalse(blk.device().spinningDelaysWork(), "completed and reaped");
        }
    }

    /** A 1 MiB backend whose single queue holds every operation until {@link HeldQueue#completeAll}. */
    private static final class HeldBackend implements BlockBackend {
        HeldQueue queue;

        @Override
        public long sizeBytes() {
            return 1 << 20;
        }

        @Override
        public boolean readOnly() {
            return false;
        }

        @Override
        public BlockQueue openQueue(final int index, final int depth) {
            queue = new HeldQueue(depth);
            return queue;
        }

        @Override
        public String name() {
            return "held";
        }

        @Override
        public void close() {
        }
    }

    private static final class HeldQueue implements BlockQueue {
        final List<Integer> operationsPerSubmit = new ArrayList<>();
        private final EventFd signal = EventFd.create();
        private final int depth;
        private final List<long[]> prepared = new ArrayList<>();
        private final List<long[]> inFlight = new ArrayList<>();
        private final List<long[]> done = new ArrayList<>();

        HeldQueue(final int depth) {
            this.depth = depth;
        }

        void completeAll() {
            done.addAll(inFlight);
            inFlight.clear();
        }

        private static long bytes(final IoVecArray iov, final int count) {
            long total = 0;
            for (int i = 0; i < count; i++) {
                total += iov.length(i);
            }
            return total;
        }

        @Override
        public int depth() {
            return depth;
        }

        @Override
        public int outstanding() {
            return prepared.size() + inFlight.size() + done.size();
        }

        @Override
        public EventFd completionSignal() {
            return signal;
        }

        @Override
        public void readv(final IoVecArray iov, final int count, final long offsetBytes, final long tag) {
            prepared.add(new long[] {tag, bytes(iov, count)});
        }

        @Override
        public void writev(final IoVecArray iov, final int count, final long offsetBytes, final boolean durable,
                           final long tag) {
            prepared.add(new long[] {tag, bytes(iov, count)});
        }

        @Override
        public void flush(final long tag) {
            prepared.add(new long[] {tag, 0});
        }

        @Override
        public void discard(final long offsetBytes, final long lengthBytes, final long tag) {
            prepared.add(new long[] {tag, 0});
        }

        @Override
        public void writeZeroes(final long offsetBytes, final long lengthBytes, final boolean unmap, final long tag) {
            prepared.add(new long[] {tag, 0});
        }

        @Override
        public void submit() {
            if (!prepared.isEmpty()) {
                operationsPerSubmit.add(prepared.size());
                inFlight.addAll(prepared);
                prepared.clear();
            }
        }

        @Override
        public int reap(final long[] tags, final int[] results, final int max) {
            int taken = 0;
            while (taken < max && !done.isEmpty()) {
                final long[] operation = done.remove(0);
                tags[taken] = operation[0];
                results[taken] = (int) operation[1];
                taken++;
            }
            return taken;
        }

        @Override
        public void awaitCompletion() {
            submit();
            completeAll();
        }

        @Override
        public void close() {
            signal.close();
        }
    }
}

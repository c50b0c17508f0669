package io.vioplane.platform.runtime;

import io.vioplane.platform.sys.EventFd;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class DataPlaneTest {
    @Test
    void commandsRunOnTheDataPlaneThreadAndReturnTheirResult() {
        final AtomicReference<Throwable> errors = new AtomicReference<>();
        try (DataPlane plane = new DataPlane("dp-test", false, errors::set)) {
            final String threadName = plane.call(() -> Thread.currentThread().getName());
            assertEquals("dp-test", threadName);
            final IllegalStateException failure = assertThrows(IllegalStateException.class,
                    () -> plane.call(() -> {
                        throw new IllegalStateException("refused on purpose");
                    }));
            assertEquals("refused on purpose", failure.getMessage(), "a command's own exception reaches the caller");
            assertNull(errors.get());
        }
    }

    @Test
    void pollsPollablesAndParksUntilAWatchedEventFdIsSignalled() throws Exception {
        try (DataPlane plane = new DataPlane("dp-park", false, Throwable::printStackTrace);
             EventFd kick = EventFd.create()) {
            final AtomicInteger pending = new AtomicInteger();
            final AtomicInteger polls = new AtomicInteger();
            final AtomicLong woken = new AtomicLong();
            final CountDownLatch worked = new CountDownLatch(1);
            final CountDownLatch idlePeriods = new CountDownLatch(2);
            final AtomicLong mostPollsBetweenParks = new AtomicLong();
            final AtomicLong pollsAtLastPark = new AtomicLong(-1);
            plane.add(new DataPlane.Pollable() {
                @Override
                public int poll() {
                    polls.incrementAndGet();
                    if (pending.get() > 0) {
                        pending.decrementAndGet();
                        worked.countDown();
                        return 1;
                    }
                    return 0;
                }

                @Override
                public boolean readyToPark() {
                    if (pending.get() != 0) {
                        return false;
                    }
                    final int now = polls.get();
                    final long previous = pollsAtLastPark.getAndSet(now);
                    if (previous >= 0) {
                        mostPollsBetweenParks.accumulateAndGet(now - previous, Math::max);
                        idlePeriods.countDown();
                    }
                    return true;
                }
            });
            plane.call(() -> {
                plane.watch(kick, woken::addAndGet);
                pollsAtLastPark.set(-1);
                return null;
            });
            assertTrue(idlePeriods.await(10, TimeUnit.SECONDS), "an idle data plane goes to block on its eventfds");
            final long budget = DataPlane.MAX_SPINS + DataPlane.MAX_YIELDS + 1;
            assertTrue(mostPollsBetweenParks.get() <= budget, "an idle data plane blocks instead of spinning: "
                    + mostPollsBetweenParks.get() + " polls between two blocks, at most " + budget);
            pending.incrementAndGet();
            kick.signal();
            assertTrue(worked.await(10, TimeUnit.SECONDS), "the kick woke the data plane and it polled");
            assertEquals(1, woken.get(), "the listener saw the drained kick count");
            plane.run(() -> plane.unwatch(kick));
        }
    }

    @Test
    void closeStopsTheThread() {
        final DataPlane plane = new DataPlane("dp-close", true, Throwable::printStackTrace);
        final Thread thread = plane.call(Thread::currentThread);
        plane.close();
        assertFalse(thread.isAlive());
    }
}

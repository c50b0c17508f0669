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
                    return pending.get() == 0;
                }
            });
            plane.run(() -> plane.watch(kick, woken::addAndGet));
            Thread.sleep(300);
            final int pollsWhileIdle = polls.get();
            Thread.sleep(300);
            assertTrue(polls.get() - pollsWhileIdle < 50, "an idle data plane blocks instead of spinning: "
                    + (polls.get() - pollsWhileIdle) + " polls in 300 ms");
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

package io.vioplane.platform.sys;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreadKickTest {
    @Test
    void kickInterruptsAThreadBlockedInASystemCallAndTheJvmSurvives() throws Exception {
        ThreadKick.install();
        final AtomicInteger threadId = new AtomicInteger();
        final CountDownLatch ready = new CountDownLatch(1);
        final AtomicInteger readyEntries = new AtomicInteger(-1);
        final Thread blocked = Thread.ofPlatform().start(() -> {
            try (Epoll epoll = new Epoll(4)) {
                threadId.set(ThreadKick.currentThreadId());
                ready.countDown();
                readyEntries.set(epoll.await(-1));
            }
        });
        assertTrue(ready.await(10, TimeUnit.SECONDS));
        while (blocked.isAlive() && !blocked.getState().equals(Thread.State.RUNNABLE)) {
            Thread.onSpinWait();
        }
        Thread.sleep(100);
        assertTrue(ThreadKick.kick(threadId.get()));
        blocked.join(10_000);
        assertFalse(blocked.isAlive(), "epoll_wait(-1) did not return after the kick");
        assertEquals(0, readyEntries.get(), "an interrupted epoll_wait reports no ready entries");
    }

    @Test
    void kickOfAThreadThatEndedReportsIt() throws Exception {
        ThreadKick.install();
        final AtomicInteger threadId = new AtomicInteger();
        final Thread ended = Thread.ofPlatform().start(() -> threadId.set(ThreadKick.currentThreadId()));
        ended.join();
        Thread.sleep(50);
        assertFalse(ThreadKick.kick(threadId.get()));
    }
}

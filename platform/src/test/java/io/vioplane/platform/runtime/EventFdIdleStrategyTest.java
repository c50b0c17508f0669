package io.vioplane.platform.runtime;

import io.vioplane.platform.sys.Epoll;
import io.vioplane.platform.sys.EventFd;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class EventFdIdleStrategyTest {
    @Test
    void blocksOnlyWhenTheGuardAllowsAndWakesOnAKick() throws Exception {
        try (EventFd kick = EventFd.create(); Epoll epoll = new Epoll(4)) {
            final AtomicInteger guardCalls = new AtomicInteger();
            final EventFdIdleStrategy idle = new EventFdIdleStrategy(epoll, () -> guardCalls.incrementAndGet() > 1, 10, 2, 60_000);
            idle.watch(kick);
            for (int i = 0; i < 12; i++) {
                idle.idle(0);
            }
            assertEquals(0, guardCalls.get(), "spins and yields come first");
            idle.idle(0);
            assertEquals(1, guardCalls.get());
            assertEquals(0, idle.parks(), "the guard refused: no block");

            final Thread kicker = new Thread(() -> {
                sleep(50);
                kick.signal();
            });
            kicker.start();
            idle.idle(0);
            kicker.join();
            assertEquals(1, idle.parks(), "blocked once and woke on the kick");
            assertEquals(0, kick.drain(), "the kick that woke it was drained");
            idle.idle(1);
            idle.idle(0);
            assertEquals(1, idle.parks(), "work resets the spin phase");
        }
    }

    @Test
    void parksWithoutSpinningWhileSpinningWouldDelayTheAgentsWork() throws Exception {
        try (EventFd kick = EventFd.create(); Epoll epoll = new Epoll(4)) {
            final AtomicInteger guardCalls = new AtomicInteger();
            final boolean[] inFlight = {true};
            final EventFdIdleStrategy idle = new EventFdIdleStrategy(epoll, () -> {
                guardCalls.incrementAndGet();
                return true;
            }, 1_000, 10, 60_000, data -> EventFd.drain((int) data), () -> inFlight[0]);
            idle.watch(kick);
            kick.signal();
            idle.idle(0);
            assertEquals(1, guardCalls.get(), "the first idle call asked to park: no spins, no yields");
            assertEquals(1, idle.parks());
            idle.idle(1);
            inFlight[0] = false;
            for (int i = 0; i < 1_010; i++) {
                idle.idle(0);
            }
            assertEquals(1, guardCalls.get(), "with nothing in flight the spins and yields come first again");
        }
    }

    @Test
    void agentThreadsRunAnAgentUntilClosedAndReportErrors() throws Exception {
        final CountDownLatch ran = new CountDownLatch(100);
        final AtomicLong errors = new AtomicLong();
        final Agent agent = new Agent() {
            private int cycles;

            @Override
            public int doWork() {
                ran.countDown();
                if (++cycles == 3) {
                    throw new IllegalStateException("thrown on purpose");
                }
                return 1;
            }

            @Override
            public String roleName() {
                return "test-agent";
            }
        };
        final AgentRunner runner = AgentThreads.start(agent, new org.agrona.concurrent.BusySpinIdleStrategy(),
                e -> errors.incrementAndGet(), null);
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        assertEquals("test-agent", runner.thread().getName());
        runner.close();
        assertEquals(1, errors.get(), "the agent's exception reached the error handler and the agent kept running");
    }

    private static void sleep(final long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

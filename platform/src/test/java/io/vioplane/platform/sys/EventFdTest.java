package io.vioplane.platform.sys;

import io.vioplane.platform.testing.OpenFds;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class EventFdTest {
    @Test
    void countsAddUpAndDrainResets() {
        try (EventFd eventFd = EventFd.create()) {
            eventFd.signal();
            eventFd.add(3);
            eventFd.add(4);
            assertEquals(8, eventFd.drain());
            assertEquals(0, eventFd.drain(), "a drained non-blocking eventfd reads 0");
        }
    }

    @Test
    void semaphoreModeHandsOutOneUnitPerRead() {
        try (EventFd eventFd = EventFd.create(3, EventFd.EFD_SEMAPHORE | EventFd.EFD_NONBLOCK)) {
            assertEquals(1, eventFd.drain());
            assertEquals(1, eventFd.drain());
            assertEquals(1, eventFd.drain());
            assertEquals(0, eventFd.drain());
        }
    }

    @Test
    void signalsFromAnotherThreadAllArrive() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            final int signals = 10_000;
            final Thread signaller = new Thread(() -> {
                for (int i = 0; i < signals; i++) {
                    eventFd.signal();
                }
            });
            signaller.start();
            long total = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (total < signals && System.nanoTime() < deadline) {
                total += eventFd.drain();
            }
            signaller.join();
            total += eventFd.drain();
            assertEquals(signals, total);
        }
    }

    @Test
    void epollWakesOnSignalAndReportsTheRegisteredData() throws Exception {
        try (EventFd eventFd = EventFd.create(); Epoll epoll = new Epoll(4)) {
            epoll.add(eventFd.fd(), Epoll.EPOLLIN, 0xABCDL);
            assertEquals(0, epoll.await(0), "nothing is ready before the signal");
            final CountDownLatch started = new CountDownLatch(1);
            final Thread signaller = new Thread(() -> {
                started.countDown();
                eventFd.signal();
            });
            signaller.start();
            started.await();
            final int ready = epoll.await(10_000);
            signaller.join();
            assertEquals(1, ready);
            assertEquals(0xABCDL, epoll.data(0));
            assertTrue((epoll.events(0) & Epoll.EPOLLIN) != 0);
            assertEquals(1, eventFd.drain());
            epoll.remove(eventFd.fd());
            eventFd.signal();
            assertEquals(0, epoll.await(0), "a removed descriptor no longer wakes the set");
        }
    }

    @Test
    void closeReleasesTheDescriptorOnce() {
        final EventFd eventFd = EventFd.create();
        final int fd = eventFd.fd();
        assertTrue(OpenFds.isOpen(fd));
        eventFd.close();
        eventFd.close();
        assertFalse(OpenFds.isOpen(fd));
    }

    @Test
    void signallingAClosedDescriptorFailsWithErrnoAndCallName() {
        final EventFd eventFd = EventFd.create();
        eventFd.close();
        final SysException failure = assertThrows(SysException.class, eventFd::signal);
        assertEquals(Errno.EBADF, failure.errno());
        assertTrue(failure.getMessage().contains("eventfd write"), failure.getMessage());
        assertTrue(failure.getMessage().contains("EBADF"), failure.getMessage());
    }
}

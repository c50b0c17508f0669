package io.vioplane.platform.runtime;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.Epoll;
import org.agrona.concurrent.IdleStrategy;

/**
 * The data plane's idle strategy: spin briefly, then yield, then block on the kick eventfds until a driver
 * rings a doorbell (DESIGN: "spin briefly, then block on the kick eventfds").
 *
 * <p>Blocking is only safe once the agent has re-enabled notifications on its queues and re-checked them
 * (VIRTIO 1.x section 2.7.10 and 2.9: otherwise a buffer made available between the last check and the
 * enable would never be kicked). The agent says whether that holds through its {@link ParkGuard}; if not,
 * the strategy keeps yielding. The eventfds that woke it are drained so that they can wake it again.
 *
 * <p>No allocation; one syscall per block and one per ready eventfd.
 */
public final class EventFdIdleStrategy implements IdleStrategy {
    /** Asked by the strategy before it blocks. */
    @FunctionalInterface
    public interface ParkGuard {
        /**
         * Enables notifications and re-checks for work.
         *
         * @return true if there is still no work, so blocking is safe
         */
        boolean readyToPark();
    }

    /** Receives each ready entry's registered data after a block. */
    @FunctionalInterface
    public interface WakeHandler {
        /** The descriptor registered with {@code data} became ready. */
        void woke(long data);
    }

    /** Asked by the strategy before each idle spin. */
    @FunctionalInterface
    public interface SpinGuard {
        /** @return true if spinning now would delay the agent's pending work, so the strategy parks at once */
        boolean spinningDelaysWork();
    }

    private final Epoll epoll;
    private final ParkGuard guard;
    private final WakeHandler wakeHandler;
    private final SpinGuard spinGuard;
    private final long maxSpins;
    private final long maxYields;
    private final int parkTimeoutMs;
    private long spins;
    private long yields;
    private long parks;

    /**
     * @param epoll         the epoll set of the agent's kick eventfds, registered with the fd as data
     * @param guard         the agent's check before blocking
     * @param maxSpins      busy spins before yielding
     * @param maxYields     yields before blocking
     * @param parkTimeoutMs longest single block, so the agent runs its periodic duties
     */
    public EventFdIdleStrategy(final Epoll epoll, final ParkGuard guard, final long maxSpins, final long maxYields,
                               final int parkTimeoutMs) {
        this(epoll, guard, maxSpins, maxYields, parkTimeoutMs, data -> EventFd.drain((int) data));
    }

    /**
     * As above, with {@code wakeHandler} deciding what a wake-up means (the default drains the eventfd whose
     * descriptor is the registered data).
     */
    public EventFdIdleStrategy(final Epoll epoll, final ParkGuard guard, final long maxSpins, final long maxYields,
                               final int parkTimeoutMs, final WakeHandler wakeHandler) {
        this(epoll, guard, maxSpins, maxYields, parkTimeoutMs, wakeHandler, () -> false);
    }

    /**
     * As above, with {@code spinGuard} able to cut the spins and yields short: when it says spinning would delay
     * the agent's pending work, the strategy parks (if the agent's {@link ParkGuard} allows) without spinning.
     */
    public EventFdIdleStrategy(final Epoll epoll, final ParkGuard guard, final long maxSpins, final long maxYields,
                               final int parkTimeoutMs, final WakeHandler wakeHandler, final SpinGuard spinGuard) {
        this.spinGuard = spinGuard;
        this.epoll = epoll;
        this.guard = guard;
        this.wakeHandler = wakeHandler;
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
        this.parkTimeoutMs = parkTimeoutMs;
    }

    /** Registers an eventfd whose signal wakes the blocked agent. */
    public void watch(final EventFd eventFd) {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, eventFd.fd());
    }

    /** Stops watching an eventfd (before it is closed). */
    public void unwatch(final EventFd eventFd) {
        epoll.remove(eventFd.fd());
    }

    @Override
    public void idle(final int workCount) {
        if (workCount > 0) {
            reset();
        } else {
            idle();
        }
    }

    @Override
    public void idle() {
        if (spins < maxSpins && spinGuard.spinningDelaysWork()) {
            spins = maxSpins;
            yields = maxYields;
        }
        if (spins < maxSpins) {
            spins++;
            Thread.onSpinWait();
        } else if (yields < maxYields) {
            yields++;
            Thread.yield();
        } else if (guard.readyToPark()) {
            parks++;
            final int ready = epoll.await(parkTimeoutMs);
            for (int i = 0; i < ready; i++) {
                wakeHandler.woke(epoll.data(i));
            }
        } else {
            Thread.yield();
        }
    }

    @Override
    public void reset() {
        spins = 0;
        yields = 0;
    }

    /** @return how many times the strategy blocked */
    public long parks() {
        return parks;
    }

    @Override
    public String alias() {
        return "eventfd";
    }
}

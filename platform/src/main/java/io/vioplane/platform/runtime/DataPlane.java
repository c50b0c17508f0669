package io.vioplane.platform.runtime;

import io.vioplane.platform.sys.Epoll;
import io.vioplane.platform.sys.EventFd;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * One data-plane thread: it polls every registered {@link Pollable} in turn (a device's queues), runs
 * commands the control plane sends it (start or stop a ring, publish a new memory table) between duty cycles,
 * and when nothing has work, spins, yields, then blocks on the kick eventfds of its queues (DESIGN "Threads").
 *
 * <p>The pollables are touched only by this thread: the control plane never touches a running ring, it
 * {@link #call calls} into the data plane and waits for the answer (e.g. GET_VRING_BASE stops the ring on this
 * thread before the reply is sent). A command wakes a blocked data plane through its own eventfd.
 *
 * <p>Busy-poll mode (for benchmarks) never blocks; the default spins briefly, then parks.
 */
public final class DataPlane implements AutoCloseable {
    /** Something the data plane polls: typically one device's queues. Called only on the data-plane thread. */
    public interface Pollable {
        /** @return how much work was done (0 = idle) */
        int poll();

        /**
         * Enables notifications and re-checks for work before the thread blocks
         * ({@link EventFdIdleStrategy.ParkGuard}).
         *
         * @return true if there is no work, so blocking is safe
         */
        boolean readyToPark();

        /**
         * Says that spinning now would only delay the work this pollable waits for: work done on this thread's CPU
         * by someone else (io_uring's kernel workers, which inherit the submitting thread's CPU) or by this thread
         * in the kernel (task work run when it blocks). The data plane then parks at once instead of spinning.
         *
         * @return true to skip the idle spins of this duty cycle
         */
        default boolean spinningDelaysWork() {
            return false;
        }
    }

    /** Receives the wake-ups of the eventfds a pollable registered (e.g. to count kicks). */
    @FunctionalInterface
    public interface WakeListener {
        /** The eventfd registered with this listener became readable; it has already been drained. */
        void woke(long count);
    }

    private static final long COMMAND_TIMEOUT_MS = 10_000;
    /** Idle polls spent spinning before yielding. */
    static final long MAX_SPINS = 2_000;
    /** Idle polls spent yielding before blocking. */
    static final long MAX_YIELDS = 50;
    private static final int PARK_TIMEOUT_MS = 100;

    private final String name;
    private final ManyToOneConcurrentArrayQueue<Runnable> commands = new ManyToOneConcurrentArrayQueue<>(1024);
    private final EventFd commandDoorbell = EventFd.create();
    private final Epoll epoll = new Epoll(64);
    private final List<Pollable> pollables = new ArrayList<>();
    private final List<WakeListener> listeners = new ArrayList<>();
    private final List<Integer> listenerFds = new ArrayList<>();
    private final List<Boolean> listenerDrains = new ArrayList<>();
    private final AgentRunner runner;
    private volatile Thread thread;
    private final int cpu;

    /**
     * Starts the data-plane thread.
     *
     * @param name    the thread's name
     * @param busyPoll never block (for benchmarks: a core is burnt)
     * @param errors  receives anything a pollable or command throws
     */
    public DataPlane(final String name, final boolean busyPoll, final org.agrona.ErrorHandler errors) {
        this(name, busyPoll, -1, errors);
    }

    /**
     * Starts the data-plane thread pinned to one CPU.
     *
     * @param cpu the CPU the thread runs on, or -1 to leave it to the scheduler
     */
    public DataPlane(final String name, final boolean busyPoll, final int cpu, final org.agrona.ErrorHandler errors) {
        this(name, busyPoll, cpu, MAX_SPINS, MAX_YIELDS, errors);
    }

    /**
     * Starts the data-plane thread pinned to one CPU, with its own idle policy: {@code maxSpins} idle polls, then
     * {@code maxYields} yields, then block. A device whose work ends in system calls that complete in this thread's
     * context (io_uring completions of block I/O run as task work of the submitting thread) does better with short
     * spins and no yields on a shared CPU: a thread that spins or yields loses its place to other tasks and its
     * completions wait with it, while a blocked thread is woken by them (QEMU polls its event loops for at most
     * 32 us, then blocks).
     *
     * @param cpu the CPU the thread runs on, or -1 to leave it to the scheduler
     */
    public DataPlane(final String name, final boolean busyPoll, final int cpu, final long maxSpins,
                     final long maxYields, final org.agrona.ErrorHandler errors) {
        this.name = name;
        this.cpu = cpu;
        epoll.add(commandDoorbell.fd(), Epoll.EPOLLIN, (-1L << 32) | commandDoorbell.fd());
        final IdleStrategy idle = busyPoll ? new BusySpinIdleStrategy()
                : new EventFdIdleStrategy(epoll, this::readyToPark, maxSpins, maxYields, PARK_TIMEOUT_MS, this::woke,
                this::spinningDelaysWork);
        this.runner = AgentThreads.start(new Loop(), idle, errors, null);
    }

    /**
     * Runs {@code command} on the data-plane thread and waits for its result.
     *
     * @throws IllegalStateException if the data plane does not answer within 10 s, or the command threw
     */
    public <T> T call(final Supplier<T> command) {
        if (Thread.currentThread() == thread) {
            return command.get();
        }
        final CompletableFuture<T> result = new CompletableFuture<>();
        final Runnable task = () -> {
            try {
                result.complete(command.get());
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            }
        };
        while (!commands.offer(task)) {
            Thread.onSpinWait();
        }
        commandDoorbell.signal();
        try {
            return result.get(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for data plane " + name, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("data plane " + name + " command failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("data plane " + name + " did not answer within " + COMMAND_TIMEOUT_MS + " ms", e);
        }
    }

    /** Runs {@code command} on the data-plane thread and waits for it. */
    public void run(final Runnable command) {
        call(() -> {
            command.run();
            return null;
        });
    }

    /** Adds a pollable (on the data-plane thread). */
    public void add(final Pollable pollable) {
        run(() -> pollables.add(pollable));
    }

    /** Removes a pollable (on the data-plane thread); after this returns it is not polled any more. */
    public void remove(final Pollable pollable) {
        run(() -> pollables.remove(pollable));
    }

    /**
     * Watches an eventfd: its signal wakes the blocked data plane, which drains it and calls {@code listener}.
     * Must be called on the data-plane thread (from a command or a poll).
     */
    public void watch(final EventFd eventFd, final WakeListener listener) {
        register(eventFd.fd(), listener, true);
    }

    /**
     * Watches any readable descriptor (a TAP, a socket): while it is readable it wakes the blocked data plane,
     * which does not read it (the pollable that owns it does); {@code listener} hears of each wake-up with a
     * count of 1. Must be called on the data-plane thread.
     */
    public void watchReadable(final int fd, final WakeListener listener) {
        register(fd, listener, false);
    }

    private void register(final int fd, final WakeListener listener, final boolean drain) {
        checkThread();
        int slot = listeners.indexOf(null);
        if (slot < 0) {
            slot = listeners.size();
            listeners.add(listener);
            listenerFds.add(fd);
            listenerDrains.add(drain);
        } else {
            listeners.set(slot, listener);
            listenerFds.set(slot, fd);
            listenerDrains.set(slot, drain);
        }
        epoll.add(fd, Epoll.EPOLLIN, ((long) slot << 32) | (fd & 0xFFFF_FFFFL));
    }

    /** Stops watching a descriptor registered with {@link #watchReadable}. Data-plane thread only. */
    public void unwatchReadable(final int fd) {
        checkThread();
        epoll.remove(fd);
        for (int i = 0; i < listeners.size(); i++) {
            if (listeners.get(i) != null && listenerFds.get(i) == fd) {
                listeners.set(i, null);
            }
        }
    }

    /** Stops watching an eventfd (before it is closed). Must be called on the data-plane thread. */
    public void unwatch(final EventFd eventFd) {
        checkThread();
        epoll.remove(eventFd.fd());
        for (int i = 0; i < listeners.size(); i++) {
            if (listeners.get(i) != null && listenerFds.get(i) == eventFd.fd()) {
                listeners.set(i, null);
            }
        }
    }

    private void checkThread() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("only the data-plane thread may change its watch set");
        }
    }

    /** @return true if the caller is the data-plane thread */
    public boolean onDataPlaneThread() {
        return Thread.currentThread() == thread;
    }

    /** Stops the thread after its current duty cycle and releases the epoll set and doorbell. */
    @Override
    public void close() {
        runner.close();
        epoll.close();
        commandDoorbell.close();
    }

    private final class Loop implements Agent {
        @Override
        public void onStart() {
            thread = Thread.currentThread();
            if (cpu >= 0) {
                io.vioplane.platform.sys.CpuAffinity.restrictCurrentThread(cpu);
            }
        }

        @Override
        public int doWork() {
            int work = 0;
            Runnable command;
            while ((command = commands.poll()) != null) {
                command.run();
                work++;
            }
            for (int i = 0; i < pollables.size(); i++) {
                work += pollables.get(i).poll();
            }
            return work;
        }

        @Override
        public String roleName() {
            return name;
        }
    }

    private boolean readyToPark() {
        if (!commands.isEmpty()) {
            return false;
        }
        for (int i = 0; i < pollables.size(); i++) {
            if (!pollables.get(i).readyToPark()) {
                return false;
            }
        }
        return true;
    }

    private boolean spinningDelaysWork() {
        for (int i = 0; i < pollables.size(); i++) {
            if (pollables.get(i).spinningDelaysWork()) {
                return true;
            }
        }
        return false;
    }

    private void woke(final long data) {
        final int fd = (int) data;
        final int slot = (int) (data >> 32);
        if (slot < 0) {
            EventFd.drain(fd);
        } else if (slot < listeners.size() && listeners.get(slot) != null) {
            final long count = listenerDrains.get(slot) ? EventFd.drain(fd) : 1;
            listeners.get(slot).woke(count);
        }
    }
}

package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The control-plane event loop of vhost-user: a Netty 4.2 {@link MultiThreadIoEventLoopGroup} with one thread
 * and the epoll {@link EpollIoHandler} (DESIGN.md, "Threads": one Netty event loop for sockets).
 */
public final class EventLoops {
    private static final long SHUTDOWN_TIMEOUT_MS = 5_000;

    private EventLoops() {
    }

    /** @return a new one-thread epoll event loop group whose daemon thread is named after {@code name} */
    public static IoEventLoopGroup newControlPlane(final String name) {
        return new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name, true), EpollIoHandler.newFactory());
    }

    /**
     * Shuts {@code group} down at once and waits for its thread to end (or the timeout); called on that thread
     * itself (a handler closing its server), it does not wait.
     */
    public static void shutdown(final IoEventLoopGroup group) {
        final Future<?> terminated = group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        for (var executor : group) {
            if (executor.inEventLoop()) {
                return;
            }
        }
        terminated.awaitUninterruptibly(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    /** Registers {@code handle} on {@code loop}; call on {@code loop}, where registration completes at once. */
    static IoRegistration registerInLoop(final IoEventLoop loop, final IoHandle handle) {
        final Future<IoRegistration> registered = loop.register(handle);
        if (!registered.isDone()) {
            throw new IllegalStateException("registration on " + loop + " did not complete in the loop");
        }
        if (!registered.isSuccess()) {
            throw new IllegalStateException("cannot register on the event loop: " + registered.cause(),
                    registered.cause());
        }
        return registered.getNow();
    }

    /** Runs {@code task} on {@code loop} and waits for its result; runs it directly if already on the loop. */
    static <T> T callOn(final IoEventLoop loop, final Callable<T> task) {
        try {
            if (loop.inEventLoop()) {
                return task.call();
            }
            return loop.submit(task).get();
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the event loop", e);
        } catch (Exception e) {
            throw rethrow(e);
        }
    }

    private static RuntimeException rethrow(final Throwable t) {
        if (t instanceof RuntimeException runtime) {
            return runtime;
        }
        if (t instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(t);
    }
}

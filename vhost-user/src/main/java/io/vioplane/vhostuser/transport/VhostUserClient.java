package io.vioplane.vhostuser.transport;

import io.netty.util.concurrent.ScheduledFuture;
import io.vioplane.platform.sys.OwnedFd;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The back-end in client mode (QEMU {@code docs/interop/vhost-user.rst}, "Introduction": with
 * {@code server=on} on QEMU's chardev, or DPDK's {@code server=1}, the front-end listens and the back-end
 * connects): connects to the front-end's socket and reconnects, until closed, after a disconnect or a failed
 * attempt, waiting {@link Builder#initialBackoffMs} (100 ms) and doubling up to {@link Builder#maxBackoffMs}
 * (5 s) while attempts keep failing. Each connection gets a fresh handler from the supplier.
 *
 * <p>The first failure of a series is logged; the next success is logged with the number of attempts it took.
 * Runs on a one-thread epoll event loop ({@link EventLoops}), its own unless one is given.
 */
public final class VhostUserClient extends TransportEndpoint {
    /** Default delay before the first retry. */
    public static final long DEFAULT_INITIAL_BACKOFF_MS = 100;
    /** Default longest delay between attempts. */
    public static final long DEFAULT_MAX_BACKOFF_MS = 5_000;

    private final long initialBackoffMs;
    private final long maxBackoffMs;
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private long backoffMs;
    private long failuresInRow;
    private ScheduledFuture<?> retry;

    private VhostUserClient(final Builder builder) {
        super(builder.settings, "vhost-user-client");
        this.initialBackoffMs = builder.initialBackoffMs;
        this.maxBackoffMs = builder.maxBackoffMs;
        this.backoffMs = initialBackoffMs;
    }

    /**
     * @param socketPath the front-end's listening socket
     * @param handlers   makes a fresh handler for each connection
     */
    public static Builder builder(final Path socketPath, final Supplier<VhostUserHandler> handlers) {
        return new Builder(new TransportSettings(socketPath, handlers));
    }

    /** @return connection attempts so far, successful or not */
    public long connectAttempts() {
        return attempts.get();
    }

    /** @return connections made so far */
    public long connections() {
        return connections.get();
    }

    private void attempt() {
        retry = null;
        if (closed) {
            return;
        }
        attempts.incrementAndGet();
        final String path = settings.socketPath.toString();
        final int fd;
        try (OwnedFd socket = OwnedFd.adopt(UnixSockets.socket(true))) {
            UnixSockets.connect(socket.fd(), path);
            fd = socket.release();
        } catch (SysException e) {
            if (failuresInRow++ == 0) {
                settings.log.info("cannot connect to " + path + ": " + e.getMessage() + "; retrying every "
                        + initialBackoffMs + ".." + maxBackoffMs + " ms");
            }
            scheduleAttempt();
            return;
        } catch (RuntimeException e) {
            settings.log.info("cannot connect to " + path + ": " + e + "; retrying");
            scheduleAttempt();
            return;
        }
        final long number = connections.incrementAndGet();
        final String description = settings.socketPath + "#" + number;
        settings.log.info(description + ": connected to the front-end"
                + (failuresInRow > 0 ? " after " + (failuresInRow + 1) + " attempts" : ""));
        failuresInRow = 0;
        backoffMs = initialBackoffMs;
        if (!serve(fd, description, this::connectionClosed)) {
            scheduleAttempt();
        }
    }

    private void connectionClosed() {
        backoffMs = initialBackoffMs;
        scheduleAttempt();
    }

    private void scheduleAttempt() {
        if (closed || retry != null) {
            return;
        }
        retry = loop.schedule(this::attempt, backoffMs, TimeUnit.MILLISECONDS);
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    }

    /** Stops reconnecting, closes the connection, and stops its own event loop. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            EventLoops.callOn(loop, () -> {
                if (retry != null) {
                    retry.cancel(false);
                    retry = null;
                }
                final VhostUserConnection connection = active;
                if (connection != null) {
                    connection.close("the client closed");
                }
                return null;
            });
        } catch (RuntimeException e) {
            settings.log.failure(settings.socketPath + ": event loop unavailable while closing: " + e);
        }
        shutdownOwnLoop();
    }

    /** How to run a client: back-off, event loop, counters, log. */
    public static final class Builder extends TransportBuilder<Builder> {
        private long initialBackoffMs = DEFAULT_INITIAL_BACKOFF_MS;
        private long maxBackoffMs = DEFAULT_MAX_BACKOFF_MS;

        private Builder(final TransportSettings settings) {
            super(settings);
        }

        @Override
        Builder self() {
            return this;
        }

        /** Sets the delay before the first retry (default 100 ms). */
        public Builder initialBackoffMs(final long delayMs) {
            if (delayMs < 1) {
                throw new IllegalArgumentException("initial back-off must be at least 1 ms: " + delayMs);
            }
            this.initialBackoffMs = delayMs;
            return this;
        }

        /** Sets the longest delay between attempts (default 5 s). */
        public Builder maxBackoffMs(final long delayMs) {
            if (delayMs < 1) {
                throw new IllegalArgumentException("maximum back-off must be at least 1 ms: " + delayMs);
            }
            this.maxBackoffMs = delayMs;
            return this;
        }

        /** Starts connecting (the first attempt runs at once on the event loop). */
        public VhostUserClient start() {
            if (maxBackoffMs < initialBackoffMs) {
                throw new IllegalArgumentException("maximum back-off " + maxBackoffMs + " ms is below the initial "
                        + initialBackoffMs + " ms");
            }
            final VhostUserClient client = new VhostUserClient(this);
            client.loop.execute(client::attempt);
            return client;
        }
    }
}

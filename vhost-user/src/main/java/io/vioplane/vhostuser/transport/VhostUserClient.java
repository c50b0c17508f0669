package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.VhostUserHandler;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
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
public final class VhostUserClient implements AutoCloseable {
    /** Default delay before the first retry. */
    public static final long DEFAULT_INITIAL_BACKOFF_MS = 100;
    /** Default longest delay between attempts. */
    public static final long DEFAULT_MAX_BACKOFF_MS = 5_000;

    private final TransportSettings settings;
    private final long initialBackoffMs;
    private final long maxBackoffMs;
    private final IoEventLoopGroup group;
    private final boolean ownsGroup;
    private final IoEventLoop loop;
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private long backoffMs;
    private long failuresInRow;
    private ScheduledFuture<?> retry;
    private volatile VhostUserConnection active;
    private volatile boolean closed;

    private VhostUserClient(final Builder builder) {
        this.settings = builder.settings;
        this.initialBackoffMs = builder.initialBackoffMs;
        this.maxBackoffMs = builder.maxBackoffMs;
        this.backoffMs = initialBackoffMs;
        this.ownsGroup = settings.eventLoopGroup == null;
        this.group = ownsGroup ? EventLoops.newControlPlane("vhost-user-client") : settings.eventLoopGroup;
        this.loop = group.next();
    }

    /**
     * @param socketPath the front-end's listening socket
     * @param handlers   makes a fresh handler for each connection
     */
    public static Builder builder(final Path socketPath, final Supplier<VhostUserHandler> handlers) {
        return new Builder(new TransportSettings(socketPath, handlers));
    }

    /** @return the socket path connected to */
    public Path socketPath() {
        return settings.socketPath;
    }

    /**
     * @return the current connection, or null while disconnected (it turns null once the connection has closed
     *     and its handler's {@code disconnected()} has returned)
     */
    public VhostUserConnection activeConnection() {
        return active;
    }

    /** @return connection attempts so far, successful or not */
    public long connectAttempts() {
        return attempts.get();
    }

    /** @return connections made so far */
    public long connections() {
        return connections.get();
    }

    /** @return the event loop the client and its connections run on */
    public IoEventLoop eventLoop() {
        return loop;
    }

    private void attempt() {
        retry = null;
        if (closed) {
            return;
        }
        attempts.incrementAndGet();
        final String path = settings.socketPath.toString();
        final int fd = UnixSockets.socket(true);
        try {
            UnixSockets.connect(fd, path);
        } catch (SysException e) {
            FileIo.closeQuietly(fd);
            if (failuresInRow++ == 0) {
                settings.log.accept("cannot connect to " + path + ": " + e.getMessage() + "; retrying every "
                        + initialBackoffMs + ".." + maxBackoffMs + " ms");
            }
            scheduleAttempt();
            return;
        } catch (RuntimeException e) {
            FileIo.closeQuietly(fd);
            settings.log.accept("cannot connect to " + path + ": " + e + "; retrying");
            scheduleAttempt();
            return;
        }
        final long number = connections.incrementAndGet();
        final String description = settings.socketPath + "#" + number;
        settings.log.accept(description + ": connected to the front-end"
                + (failuresInRow > 0 ? " after " + (failuresInRow + 1) + " attempts" : ""));
        failuresInRow = 0;
        backoffMs = initialBackoffMs;
        final VhostUserHandler handler;
        try {
            handler = settings.handlers.get();
        } catch (RuntimeException e) {
            settings.log.accept(description + ": no handler for the connection, closed it: " + e);
            FileIo.closeQuietly(fd);
            scheduleAttempt();
            return;
        }
        final VhostUserConnection connection = VhostUserConnection.open(fd, description, handler, loop,
                new ConnectionCounters(settings.countersFile, description), settings.log, this::connectionClosed);
        if (connection.isOpen()) {
            active = connection;
        }
    }

    private void connectionClosed() {
        active = null;
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
            settings.log.accept(settings.socketPath + ": event loop unavailable while closing: " + e);
        }
        if (ownsGroup) {
            EventLoops.shutdown(group);
        }
    }

    /** How to run a client: back-off, event loop, counters, log. */
    public static final class Builder {
        private final TransportSettings settings;
        private long initialBackoffMs = DEFAULT_INITIAL_BACKOFF_MS;
        private long maxBackoffMs = DEFAULT_MAX_BACKOFF_MS;

        private Builder(final TransportSettings settings) {
            this.settings = settings;
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

        /** Runs on {@code eventLoopGroup} (not shut down by the client) instead of a loop of its own. */
        public Builder eventLoopGroup(final IoEventLoopGroup eventLoopGroup) {
            settings.eventLoopGroup = eventLoopGroup;
            return this;
        }

        /** Publishes per-connection counters in {@code file}. */
        public Builder counters(final CountersFile file) {
            settings.countersFile = file;
            return this;
        }

        /** Sends log lines to {@code sink} instead of standard error. */
        public Builder log(final Consumer<String> sink) {
            settings.log = sink;
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

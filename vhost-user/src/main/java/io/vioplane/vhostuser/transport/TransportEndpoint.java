package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.sys.FileIo;

import java.nio.file.Path;

/**
 * What {@link VhostUserServer} and {@link VhostUserClient} are alike in: one socket path, one event loop (their own
 * unless one is given), at most one front-end connection at a time, each connection served by a fresh handler
 * (QEMU {@code docs/interop/vhost-user.rst}, "Introduction").
 */
abstract sealed class TransportEndpoint implements AutoCloseable permits VhostUserServer, VhostUserClient {
    final TransportSettings settings;
    final IoEventLoopGroup group;
    final boolean ownsGroup;
    final IoEventLoop loop;
    volatile VhostUserConnection active;
    volatile boolean closed;

    TransportEndpoint(final TransportSettings settings, final String loopName) {
        this.settings = settings;
        this.ownsGroup = settings.eventLoopGroup == null;
        this.group = ownsGroup ? EventLoops.newControlPlane(loopName) : settings.eventLoopGroup;
        this.loop = group.next();
    }

    /** @return the socket's path */
    public Path socketPath() {
        return settings.socketPath;
    }

    /**
     * @return the front-end's connection, or null while none is connected (it turns null once the connection has
     *     closed and its handler's {@code disconnected()} has returned)
     */
    public VhostUserConnection activeConnection() {
        return active;
    }

    /** @return the event loop this transport and its connections run on */
    public IoEventLoop eventLoop() {
        return loop;
    }

    /**
     * Serves connected socket {@code fd} with a fresh handler; it becomes {@link #activeConnection()} while open.
     *
     * @param onClosed runs on the event loop once the connection has closed
     * @return false if no handler could be made (the fd is closed and the reason logged)
     */
    final boolean serve(final int fd, final String description, final Runnable onClosed) {
        final VhostUserHandler handler;
        try {
            handler = settings.handlers.get();
        } catch (RuntimeException e) {
            settings.log.failure(description + ": no handler for the connection, closed it: " + e);
            FileIo.closeQuietly(fd);
            return false;
        }
        final VhostUserConnection connection = VhostUserConnection.open(fd, description, handler, loop,
                new ConnectionCounters(settings.countersFile, description), settings.log, settings.replyAckFromStart, () -> {
                    active = null;
                    onClosed.run();
                });
        if (connection.isOpen()) {
            active = connection;
        }
        return true;
    }

    /** Stops the event loop if it is this transport's own. */
    final void shutdownOwnLoop() {
        if (ownsGroup) {
            EventLoops.shutdown(group);
        }
    }
}

package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.VhostUserHandler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The back-end in server mode, the default (QEMU {@code docs/interop/vhost-user.rst}, "Introduction": the
 * back-end listens, the front-end connects): binds a Unix socket, serves one front-end at a time and keeps
 * listening after it disconnects.
 *
 * <ul>
 *   <li>A stale socket file at the path (one nobody listens on) is removed first; a live one or a file that is not
 *       a socket is left alone and {@link Builder#start()} fails.</li>
 *   <li>The socket gets mode 0600 (or {@link Builder#socketMode}) before it listens, so no connection is
 *       accepted with looser permissions.</li>
 *   <li>While a front-end is connected, further connections are accepted and closed at once, with a log line.</li>
 *   <li>Each connection gets a fresh handler from the supplier.</li>
 *   <li>{@link #close()} closes the connection and the listening socket and removes the socket file.</li>
 * </ul>
 * Runs on a one-thread epoll event loop ({@link EventLoops}), its own unless one is given.
 */
public final class VhostUserServer implements AutoCloseable {
    /** The socket's default mode: read and write for the owner only. */
    public static final int DEFAULT_SOCKET_MODE = 0600;
    private static final int BACKLOG = 8;

    private final TransportSettings settings;
    private final int socketMode;
    private final IoEventLoopGroup group;
    private final boolean ownsGroup;
    private final IoEventLoop loop;
    private final Listener listener = new Listener();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong turnedAway = new AtomicLong();
    private int listenFd = -1;
    private IoRegistration listenRegistration;
    private volatile VhostUserConnection active;
    private volatile boolean closed;

    private VhostUserServer(final Builder builder) {
        this.settings = builder.settings;
        this.socketMode = builder.socketMode;
        this.ownsGroup = settings.eventLoopGroup == null;
        this.group = ownsGroup ? EventLoops.newControlPlane("vhost-user-server") : settings.eventLoopGroup;
        this.loop = group.next();
    }

    /**
     * @param socketPath where to listen
     * @param handlers   makes a fresh handler for each connection
     */
    public static Builder builder(final Path socketPath, final Supplier<VhostUserHandler> handlers) {
        return new Builder(new TransportSettings(socketPath, handlers));
    }

    /** @return the socket's path */
    public Path socketPath() {
        return settings.socketPath;
    }

    /**
     * @return the connected front-end's connection, or null while none is connected (it turns null once the
     *     connection has closed and its handler's {@code disconnected()} has returned)
     */
    public VhostUserConnection activeConnection() {
        return active;
    }

    /** @return connections accepted and served */
    public long acceptedConnections() {
        return accepted.get();
    }

    /** @return connections closed at once because another front-end was connected */
    public long turnedAwayConnections() {
        return turnedAway.get();
    }

    /** @return the event loop the server and its connections run on */
    public IoEventLoop eventLoop() {
        return loop;
    }

    private void listen() {
        removeStaleSocket(settings.socketPath);
        final String path = settings.socketPath.toString();
        final int fd = UnixSockets.socket(true);
        try {
            UnixSockets.bind(fd, path);
            Files.setPosixFilePermissions(settings.socketPath, permissions(socketMode));
            UnixSockets.listen(fd, BACKLOG);
        } catch (IOException e) {
            FileIo.closeQuietly(fd);
            deleteQuietly(settings.socketPath);
            throw new UncheckedIOException("cannot chmod " + path, e);
        } catch (RuntimeException e) {
            FileIo.closeQuietly(fd);
            deleteQuietly(settings.socketPath);
            throw e;
        }
        listenFd = fd;
        try {
            EventLoops.callOn(loop, () -> {
                listenRegistration = EventLoops.registerInLoop(loop, listener);
                listenRegistration.submit(EpollIoOps.EPOLLIN);
                return null;
            });
        } catch (RuntimeException e) {
            FileIo.closeQuietly(fd);
            deleteQuietly(settings.socketPath);
            throw e;
        }
        settings.log.accept("listening on " + path + " (mode " + Integer.toOctalString(socketMode) + ")");
    }

    private void acceptAll() {
        while (!closed) {
            final int fd;
            try {
                fd = UnixSockets.accept(listenFd, true);
            } catch (SysException e) {
                settings.log.accept("accept on " + settings.socketPath + " failed: " + e.getMessage());
                return;
            }
            if (fd < 0) {
                return;
            }
            final VhostUserConnection current = active;
            if (current != null && current.isOpen()) {
                turnedAway.incrementAndGet();
                settings.log.accept(settings.socketPath + ": a second front-end connected while " + current
                        + " is active; closed it (one front-end at a time)");
                FileIo.closeQuietly(fd);
                continue;
            }
            serve(fd);
        }
    }

    private void serve(final int fd) {
        final long number = accepted.incrementAndGet();
        final String description = settings.socketPath + "#" + number;
        final VhostUserHandler handler;
        try {
            handler = settings.handlers.get();
        } catch (RuntimeException e) {
            settings.log.accept(description + ": no handler for the connection, closed it: " + e);
            FileIo.closeQuietly(fd);
            return;
        }
        settings.log.accept(description + ": front-end connected");
        final VhostUserConnection connection = VhostUserConnection.open(fd, description, handler, loop,
                new ConnectionCounters(settings.countersFile, description), settings.log, () -> active = null);
        if (connection.isOpen()) {
            active = connection;
        }
    }

    /** Closes the connection and the listening socket, removes the socket file, and stops its own event loop. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            EventLoops.callOn(loop, () -> {
                closeInLoop();
                return null;
            });
        } catch (RuntimeException e) {
            settings.log.accept(settings.socketPath + ": event loop unavailable while closing: " + e);
            FileIo.closeQuietly(listenFd);
        }
        deleteQuietly(settings.socketPath);
        if (ownsGroup) {
            EventLoops.shutdown(group);
        }
    }

    private void closeInLoop() {
        if (listenRegistration != null) {
            listenRegistration.cancel();
            listenRegistration = null;
        }
        if (listenFd >= 0) {
            FileIo.closeQuietly(listenFd);
            listenFd = -1;
        }
        final VhostUserConnection connection = active;
        if (connection != null) {
            connection.close("the server closed");
        }
    }

    /**
     * Removes a socket file nobody listens on. A live socket or a file of another type stays and this throws.
     */
    static void removeStaleSocket(final Path path) {
        final BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return;
        }
        if (!attributes.isOther()) {
            throw new IllegalStateException(path + " exists and is not a socket; refusing to replace it");
        }
        final int probe = UnixSockets.socket(false);
        try {
            UnixSockets.connect(probe, path.toString());
            throw new IllegalStateException("another back-end is listening on " + path);
        } catch (SysException e) {
            if (e.errno() != Errno.ECONNREFUSED && e.errno() != Errno.ENOENT) {
                throw e;
            }
        } finally {
            FileIo.closeQuietly(probe);
        }
        deleteQuietly(path);
    }

    static Set<PosixFilePermission> permissions(final int mode) {
        if ((mode & ~0777) != 0) {
            throw new IllegalArgumentException("socket mode must be within 0777: 0" + Integer.toOctalString(mode));
        }
        final PosixFilePermission[] bits = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        final Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        for (int bit = 0; bit < bits.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                permissions.add(bits[bit]);
            }
        }
        return permissions;
    }

    private static void deleteQuietly(final Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // nothing more to do; a later start removes it as stale
        }
    }

    /** The listening socket as Netty's epoll handler sees it. */
    private final class Listener implements EpollIoHandle {
        private FileDescriptor fd;

        @Override
        public FileDescriptor fd() {
            if (fd == null) {
                fd = new FileDescriptor(listenFd);
            }
            return fd;
        }

        @Override
        public void handle(final IoRegistration registration, final IoEvent event) {
            try {
                acceptAll();
            } catch (RuntimeException e) {
                settings.log.accept(settings.socketPath + ": accepting failed: " + e);
            }
        }

        @Override
        public void close() {
            closeInLoop();
        }
    }

    /** How to run a server: socket mode, event loop, counters, log. */
    public static final class Builder {
        private final TransportSettings settings;
        private int socketMode = DEFAULT_SOCKET_MODE;

        private Builder(final TransportSettings settings) {
            this.settings = settings;
        }

        /** Sets the socket file's mode (default 0600). */
        public Builder socketMode(final int mode) {
            permissions(mode);
            this.socketMode = mode;
            return this;
        }

        /** Runs on {@code eventLoopGroup} (not shut down by the server) instead of a loop of its own. */
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

        /**
         * Binds, sets the mode, listens and starts accepting.
         *
         * @throws IllegalStateException if another back-end listens on the path or the path is not a socket
         * @throws SysException          if the socket cannot be bound
         */
        public VhostUserServer start() {
            final VhostUserServer server = new VhostUserServer(this);
            try {
                server.listen();
            } catch (RuntimeException e) {
                if (server.ownsGroup) {
                    EventLoops.shutdown(server.group);
                }
                throw e;
            }
            return server;
        }
    }
}

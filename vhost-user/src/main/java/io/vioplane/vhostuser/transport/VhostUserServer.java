package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.OwnedFd;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;

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
public final class VhostUserServer extends TransportEndpoint {
    /** The socket's default mode: read and write for the owner only. */
    public static final int DEFAULT_SOCKET_MODE = 0600;
    private static final int BACKLOG = 8;

    private final int socketMode;
    private final Listener listener = new Listener();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong turnedAway = new AtomicLong();
    private int listenFd = -1;
    private IoRegistration listenRegistration;

    private VhostUserServer(final Builder builder) {
        super(builder.settings, "vhost-user-server");
        this.socketMode = builder.socketMode;
    }

    /**
     * @param socketPath where to listen
     * @param handlers   makes a fresh handler for each connection
     */
    public static Builder builder(final Path socketPath, final Supplier<VhostUserHandler> handlers) {
        return new Builder(new TransportSettings(socketPath, handlers));
    }

    /** @return connections accepted and served */
    public long acceptedConnections() {
        return accepted.get();
    }

    /** @return connections closed at once because another front-end was connected */
    public long turnedAwayConnections() {
        return turnedAway.get();
    }

    private void listen() {
        removeStaleSocket(settings.socketPath);
        final String path = settings.socketPath.toString();
        final int fd;
        try (OwnedFd socket = OwnedFd.adopt(UnixSockets.socket(true))) {
            UnixSockets.bind(socket.fd(), path);
            Files.setPosixFilePermissions(settings.socketPath, permissions(socketMode));
            UnixSockets.listen(socket.fd(), BACKLOG);
            fd = socket.release();
        } catch (IOException e) {
            deleteQuietly(settings.socketPath);
            throw new UncheckedIOException("cannot chmod " + path, e);
        } catch (RuntimeException e) {
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
        settings.log.info("listening on " + path + " (mode " + Integer.toOctalString(socketMode) + ")");
    }

    private void acceptAll() {
        while (!closed) {
            final int fd;
            try {
                fd = UnixSockets.accept(listenFd, true);
            } catch (SysException e) {
                settings.log.failure("accept on " + settings.socketPath + " failed: " + e.getMessage());
                return;
            }
            if (fd < 0) {
                return;
            }
            final VhostUserConnection current = active;
            if (current != null && current.isOpen()) {
                turnedAway.incrementAndGet();
                settings.log.failure(settings.socketPath + ": a second front-end connected while " + current
                        + " is active; closed it (one front-end at a time)");
                FileIo.closeQuietly(fd);
                continue;
            }
            serveAccepted(fd);
        }
    }

    private void serveAccepted(final int fd) {
        final String description = settings.socketPath + "#" + accepted.incrementAndGet();
        settings.log.info(description + ": front-end connected");
        serve(fd, description, () -> { });
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
            settings.log.failure(settings.socketPath + ": event loop unavailable while closing: " + e);
            FileIo.closeQuietly(listenFd);
        }
        deleteQuietly(settings.socketPath);
        shutdownOwnLoop();
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
        try (OwnedFd probe = OwnedFd.adopt(UnixSockets.socket(false))) {
            UnixSockets.connect(probe.fd(), path.toString());
            throw new IllegalStateException("another back-end is listening on " + path);
        } catch (SysException e) {
            if (e.errno() != Errno.ECONNREFUSED && e.errno() != Errno.ENOENT) {
                throw e;
            }
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
                settings.log.failure(settings.socketPath + ": accepting failed: " + e);
            }
        }

        @Override
        public void close() {
            closeInLoop();
        }
    }

    /** How to run a server: socket mode, event loop, counters, log. */
    public static final class Builder extends TransportBuilder<Builder> {
        private int socketMode = DEFAULT_SOCKET_MODE;

        private Builder(final TransportSettings settings) {
            super(settings);
        }

        @Override
        Builder self() {
            return this;
        }

        /** Sets the socket file's mode (default 0600). */
        public Builder socketMode(final int mode) {
            permissions(mode);
            this.socketMode = mode;
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
                server.shutdownOwnLoop();
                throw e;
            }
            return server;
        }
    }
}

package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.vhostuser.protocol.VhostUserHandler;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What {@link VhostUserServer} and {@link VhostUserClient} share: the socket path, where handlers come from, the
 * event loop, counters and log. Built by their builders; validated once at start.
 */
final class TransportSettings {
    /** The default log: one line per event on standard error. */
    static final Consumer<String> STDERR = line -> System.err.println("vhost-user: " + line);

    final Path socketPath;
    final Supplier<VhostUserHandler> handlers;
    IoEventLoopGroup eventLoopGroup;
    CountersFile countersFile;
    Consumer<String> log = STDERR;

    TransportSettings(final Path socketPath, final Supplier<VhostUserHandler> handlers) {
        this.socketPath = Objects.requireNonNull(socketPath, "socketPath").toAbsolutePath();
        this.handlers = Objects.requireNonNull(handlers, "handlers");
    }
}

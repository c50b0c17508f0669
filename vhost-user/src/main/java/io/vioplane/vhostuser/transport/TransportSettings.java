package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.ErrorLog;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What {@link VhostUserServer} and {@link VhostUserClient} share: the socket path, where handlers come from, the
 * event loop, counters and log. Built by their builders; validated once at start.
 */
final class TransportSettings {
    final Path socketPath;
    final Supplier<VhostUserHandler> handlers;
    IoEventLoopGroup eventLoopGroup;
    CountersFile countersFile;
    ErrorLog log = ErrorLog.printingTo(System.err);
    /** Transport tests only: connections start as if REPLY_ACK had been negotiated. */
    boolean replyAckFromStart;

    TransportSettings(final Path socketPath, final Supplier<VhostUserHandler> handlers) {
        this.socketPath = Objects.requireNonNull(socketPath, "socketPath").toAbsolutePath();
        this.handlers = Objects.requireNonNull(handlers, "handlers");
    }
}

package io.vioplane.vhostuser.transport;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.ErrorLog;


/**
 * The settings both transports' builders take: event loop, counters, log.
 *
 * @param <B> the concrete builder, returned for chaining
 */
abstract sealed class TransportBuilder<B extends TransportBuilder<B>> permits VhostUserServer.Builder,
        VhostUserClient.Builder {
    final TransportSettings settings;

    TransportBuilder(final TransportSettings settings) {
        this.settings = settings;
    }

    abstract B self();

    /** Runs on {@code eventLoopGroup} (not shut down by the transport) instead of a loop of its own. */
    public B eventLoopGroup(final IoEventLoopGroup eventLoopGroup) {
        settings.eventLoopGroup = eventLoopGroup;
        return self();
    }

    /** Publishes per-connection counters in {@code file}. */
    public B counters(final CountersFile file) {
        settings.countersFile = file;
        return self();
    }

    /** Transport tests only: connections start as if SET_PROTOCOL_FEATURES with REPLY_ACK had come. */
    B replyAckFromStart() {
        settings.replyAckFromStart = true;
        return self();
    }

    /** Logs to {@code sink} (the process's {@link ErrorLog}) instead of a log of its own on standard error. */
    public B log(final ErrorLog sink) {
        settings.log = sink;
        return self();
    }
}

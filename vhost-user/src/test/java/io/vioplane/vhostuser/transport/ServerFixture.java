package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vhostuser.testing.RecordingHandler;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/** A running {@link VhostUserServer} whose handlers are {@link RecordingHandler}s, and its log lines. */
final class ServerFixture implements AutoCloseable {
    final Path socket;
    final VhostUserServer server;
    final List<String> log = new CopyOnWriteArrayList<>();
    final List<RecordingHandler> handlers = new CopyOnWriteArrayList<>();

    ServerFixture(final Path directory, final Supplier<RecordingHandler> handlerFactory) {
        this(directory, handlerFactory, false);
    }

    private ServerFixture(final Path directory, final Supplier<RecordingHandler> handlerFactory,
                          final boolean replyAck) {
        this.socket = directory.resolve("vhost.sock");
        final VhostUserServer.Builder builder = VhostUserServer.builder(socket, () -> {
            final RecordingHandler handler = handlerFactory.get();
            handlers.add(handler);
            return handler;
        }).log(ErrorLog.printingTo(log::add));
        this.server = (replyAck ? builder.replyAckFromStart() : builder).start();
    }

    /** A fixture whose connections start as if REPLY_ACK had been negotiated. */
    static ServerFixture replyAcked(final Path directory, final Supplier<RecordingHandler> handlerFactory) {
        return new ServerFixture(directory, handlerFactory, true);
    }

    ServerFixture(final Path directory) {
        this(directory, RecordingHandler::new);
    }

    /** @return the handler of the {@code index}-th connection, waiting for it to exist */
    RecordingHandler handler(final int index) {
        if (!RecordingHandler.await(() -> handlers.size() > index, 10_000)) {
            throw new AssertionError("connection " + index + " was never served; log: " + log);
        }
        return handlers.get(index);
    }

    /** @return the last handler */
    RecordingHandler lastHandler() {
        return handler(handlers.size() - 1);
    }

    /** Waits until the server has no active connection. */
    boolean awaitIdle() {
        return RecordingHandler.await(() -> server.activeConnection() == null, 10_000);
    }

    @Override
    public void close() {
        server.close();
        System.out.println("server log:\n  " + String.join("\n  ", log));
    }
}

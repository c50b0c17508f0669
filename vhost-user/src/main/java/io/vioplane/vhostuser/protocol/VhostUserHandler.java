package io.vioplane.vhostuser.protocol;

import io.vioplane.vhostuser.transport.VhostUserConnection;

/**
 * The device-agnostic side of a vhost-user back-end (QEMU {@code docs/interop/vhost-user.rst}: features, memory
 * table, vrings, notifications): the transport hands it one validated request at a time.
 *
 * <p>All calls come from the connection's event-loop thread, one message at a time, in order. A fresh handler
 * serves each connection: {@link #connected} first, then {@link #handle} per message, then {@link #disconnected}
 * exactly once.
 */
public interface VhostUserHandler {
    /** A front-end connected (server accept or client connect). */
    void connected(VhostUserConnection connection);

    /**
     * Handles one request that passed the {@link Validator}. Writes the reply body to {@code reply} if the request
     * has one ({@link VhostUserRequest#hasExplicitReply}); REPLY_ACK acknowledgements are the connection's job.
     * Descriptors the handler wants to keep it takes with {@link VhostUserMessage#takeFd}; the rest are closed
     * after it returns.
     *
     * @throws VhostUserException to refuse the request
     */
    void handle(VhostUserMessage request, ReplyWriter reply) throws VhostUserException;

    /** @return true if REPLY_ACK is in the negotiated protocol features (asked after each {@link #handle}) */
    boolean replyAckNegotiated();

    /** The connection closed for any reason: release everything it set up (mappings, eventfds, rings). */
    void disconnected();
}

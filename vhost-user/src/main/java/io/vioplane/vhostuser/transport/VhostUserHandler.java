package io.vioplane.vhostuser.transport;

import io.vioplane.vhostuser.protocol.ReplyWriter;
import io.vioplane.vhostuser.protocol.Validator;
import io.vioplane.vhostuser.protocol.VhostUserException;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.protocol.VhostUserRequest;

/**
 * The device-agnostic side of a vhost-user back-end (QEMU {@code docs/interop/vhost-user.rst}: features, memory
 * table, vrings, notifications): the {@link VhostUserConnection} hands it one validated request at a time.
 *
 * <p>All calls come from the connection's event-loop thread, one message at a time, in order. A fresh handler
 * serves each connection: {@link #connected} first, then {@link #handle} per message, then {@link #disconnected}
 * exactly once. The handler only answers and refuses; acknowledging (REPLY_ACK, which the connection learns from
 * SET_PROTOCOL_FEATURES itself), reporting refusals ({@link io.vioplane.vhostuser.protocol.FailureReport}) and
 * logging them are the connection's.
 */
public interface VhostUserHandler {
    /** A front-end connected (server accept or client connect). */
    void connected();

    /**
     * Handles one request that passed the {@link Validator}. Writes the reply body to {@code reply} if the request
     * has one ({@link VhostUserRequest#hasExplicitReply}); REPLY_ACK acknowledgements are the connection's job.
     * Descriptors the handler wants to keep it takes with {@link VhostUserMessage#takeFd}; the rest are closed
     * after it returns.
     *
     * @throws VhostUserException to refuse the request (not logged by the handler: the connection logs it once)
     */
    void handle(VhostUserMessage request, ReplyWriter reply) throws VhostUserException;

    /** The connection closed for any reason: release everything it set up (mappings, eventfds, rings). */
    void disconnected();
}

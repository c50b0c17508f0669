package io.vioplane.vhostuser.protocol;

import java.io.Serial;

/**
 * A request the handler refuses (QEMU {@code docs/interop/vhost-user.rst}, "VHOST_USER_PROTOCOL_F_REPLY_ACK").
 *
 * <p>The connection reports the refusal when the protocol lets it: a non-zero u64 to a request with NEED_REPLY
 * once REPLY_ACK is negotiated, a non-zero status to requests whose reply is a status (IOTLB_MSG, ...), an empty
 * reply to GET_CONFIG. It closes the connection when {@link #closeConnection()} is true, or when the front-end
 * waits for a reply that cannot express failure (GET_FEATURES, GET_VRING_BASE, ...). Either way it logs a line.
 */
public class VhostUserException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final boolean closeConnection;

    /**
     * @param message         what was refused and why, naming the front-end's fault if it is one
     * @param closeConnection true if the session cannot go on (state is inconsistent): close after reporting
     */
    public VhostUserException(final String message, final boolean closeConnection) {
        super(message);
        this.closeConnection = closeConnection;
    }

    /** @return true if the connection must be closed after this refusal */
    public boolean closeConnection() {
        return closeConnection;
    }
}

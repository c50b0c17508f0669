package io.vioplane.vhostuser.protocol;

/**
 * How a refused request is reported to the front-end, by request type (QEMU {@code docs/interop/vhost-user.rst},
 * "VHOST_USER_PROTOCOL_F_REPLY_ACK", and the reply payload of each message), and whether the connection must close
 * afterwards. The whole rule table:
 *
 * <pre>
 *   request                                  NEED_REPLY and REPLY_ACK   report          close unless asked
 *   GET_CONFIG                               any                        empty body      no
 *   IOTLB_MSG, POSTCOPY_END,
 *   SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE  any                        non-zero u64    no
 *   other requests with a reply body         any                        none            yes: the front-end waits
 *   requests without a reply body            both                       non-zero u64    no
 *   requests without a reply body            not both                   none            only a validator rejection
 * </pre>
 */
public enum FailureReport {
    /** An empty reply body (GET_CONFIG: "a zero-length payload means failure"). */
    EMPTY_BODY,
    /** A u64 reply of {@link #FAILURE_STATUS}: a status reply, or the REPLY_ACK acknowledgement. */
    STATUS,
    /** The protocol cannot express the failure for this request. */
    NONE;

    /** The u64 sent to report that a request failed. */
    public static final long FAILURE_STATUS = 1;

    /**
     * @param request   the request id
     * @param needReply the message carried NEED_REPLY
     * @param replyAck  REPLY_ACK is in the negotiated protocol features
     * @return how a failure of {@code request} is reported
     */
    public static FailureReport of(final int request, final boolean needReply, final boolean replyAck) {
        if (request == VhostUserRequest.GET_CONFIG) {
            return EMPTY_BODY;
        }
        if (VhostUserRequest.hasStatusReply(request)
                || (!VhostUserRequest.hasExplicitReply(request) && needReply && replyAck)) {
            return STATUS;
        }
        return NONE;
    }

    /** @return true if the front-end hears of the failure */
    public boolean reported() {
        return this != NONE;
    }

    /**
     * Whether the connection closes after the refusal: when asked to; when the front-end waits for a reply body
     * that cannot say "failed" (GET_FEATURES, GET_VRING_BASE, ...); and when a validator rejection cannot be
     * reported (the message itself is broken). A handler's unreported refusal of a request nobody waits on keeps
     * the connection.
     *
     * @param byHandler    the handler refused (true) or the validator rejected (false)
     * @param closeAsked   the handler asked to close ({@link VhostUserException#closeConnection()})
     */
    public boolean closes(final int request, final boolean byHandler, final boolean closeAsked) {
        final boolean frontEndWaits = VhostUserRequest.hasExplicitReply(request) && !reported();
        return closeAsked || frontEndWaits || (!byHandler && !reported());
    }
}

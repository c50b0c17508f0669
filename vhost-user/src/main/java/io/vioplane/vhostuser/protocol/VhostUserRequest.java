package io.vioplane.vhostuser.protocol;

/**
 * The request ids of vhost-user (QEMU {@code docs/interop/vhost-user.rst}, "Front-end message types" and
 * "Back-end message types"), with their names for logs, and which requests the back-end answers with an
 * explicit reply body.
 *
 * <p>Front-end requests travel on the main socket; back-end requests ({@code BACKEND_*}) travel on the socket
 * the front-end hands over with {@link #SET_BACKEND_REQ_FD} and have their own id space.
 */
public final class VhostUserRequest {
    public static final int GET_FEATURES = 1;
    public static final int SET_FEATURES = 2;
    public static final int SET_OWNER = 3;
    /** Deprecated by the spec; back-ends ignore it or disable all rings. */
    public static final int RESET_OWNER = 4;
    public static final int SET_MEM_TABLE = 5;
    public static final int SET_LOG_BASE = 6;
    public static final int SET_LOG_FD = 7;
    public static final int SET_VRING_NUM = 8;
    public static final int SET_VRING_ADDR = 9;
    public static final int SET_VRING_BASE = 10;
    public static final int GET_VRING_BASE = 11;
    public static final int SET_VRING_KICK = 12;
    public static final int SET_VRING_CALL = 13;
    public static final int SET_VRING_ERR = 14;
    public static final int GET_PROTOCOL_FEATURES = 15;
    public static final int SET_PROTOCOL_FEATURES = 16;
    public static final int GET_QUEUE_NUM = 17;
    public static final int SET_VRING_ENABLE = 18;
    public static final int SEND_RARP = 19;
    public static final int NET_SET_MTU = 20;
    public static final int SET_BACKEND_REQ_FD = 21;
    public static final int IOTLB_MSG = 22;
    public static final int SET_VRING_ENDIAN = 23;
    public static final int GET_CONFIG = 24;
    public static final int SET_CONFIG = 25;
    public static final int CREATE_CRYPTO_SESSION = 26;
    public static final int CLOSE_CRYPTO_SESSION = 27;
    public static final int POSTCOPY_ADVISE = 28;
    public static final int POSTCOPY_LISTEN = 29;
    public static final int POSTCOPY_END = 30;
    public static final int GET_INFLIGHT_FD = 31;
    public static final int SET_INFLIGHT_FD = 32;
    public static final int GPU_SET_SOCKET = 33;
    public static final int RESET_DEVICE = 34;
    public static final int VRING_KICK = 35;
    public static final int GET_MAX_MEM_SLOTS = 36;
    public static final int ADD_MEM_REG = 37;
    public static final int REM_MEM_REG = 38;
    public static final int SET_STATUS = 39;
    public static final int GET_STATUS = 40;
    public static final int GET_SHARED_OBJECT = 41;
    public static final int SET_DEVICE_STATE_FD = 42;
    public static final int CHECK_DEVICE_STATE = 43;
    /** The highest front-end request id this implementation knows. */
    public static final int MAX_REQUEST = CHECK_DEVICE_STATE;

    /** Back-end request: an IOTLB miss or access failure ({@code struct vhost_iotlb_msg}). */
    public static final int BACKEND_IOTLB_MSG = 1;
    /** Back-end request: the device's configuration space changed; the front-end re-reads it with GET_CONFIG. */
    public static final int BACKEND_CONFIG_CHANGE_MSG = 2;
    /** Back-end request: map (with an fd) or unmap a host notifier area for a queue. */
    public static final int BACKEND_VRING_HOST_NOTIFIER_MSG = 3;
    /** Back-end request: in-band "used buffers" notification (vring state, num 0). */
    public static final int BACKEND_VRING_CALL = 4;
    /** Back-end request: in-band error notification (vring state, num 0). */
    public static final int BACKEND_VRING_ERR = 5;
    public static final int BACKEND_SHARED_OBJECT_ADD = 6;
    public static final int BACKEND_SHARED_OBJECT_REMOVE = 7;
    public static final int BACKEND_SHARED_OBJECT_LOOKUP = 8;

    private static final String[] NAMES = {
        null, "GET_FEATURES", "SET_FEATURES", "SET_OWNER", "RESET_OWNER", "SET_MEM_TABLE", "SET_LOG_BASE",
        "SET_LOG_FD", "SET_VRING_NUM", "SET_VRING_ADDR", "SET_VRING_BASE", "GET_VRING_BASE", "SET_VRING_KICK",
        "SET_VRING_CALL", "SET_VRING_ERR", "GET_PROTOCOL_FEATURES", "SET_PROTOCOL_FEATURES", "GET_QUEUE_NUM",
        "SET_VRING_ENABLE", "SEND_RARP", "NET_SET_MTU", "SET_BACKEND_REQ_FD", "IOTLB_MSG", "SET_VRING_ENDIAN",
        "GET_CONFIG", "SET_CONFIG", "CREATE_CRYPTO_SESSION", "CLOSE_CRYPTO_SESSION", "POSTCOPY_ADVISE",
        "POSTCOPY_LISTEN", "POSTCOPY_END", "GET_INFLIGHT_FD", "SET_INFLIGHT_FD", "GPU_SET_SOCKET", "RESET_DEVICE",
        "VRING_KICK", "GET_MAX_MEM_SLOTS", "ADD_MEM_REG", "REM_MEM_REG", "SET_STATUS", "GET_STATUS",
        "GET_SHARED_OBJECT", "SET_DEVICE_STATE_FD", "CHECK_DEVICE_STATE",
    };

    private static final String[] BACKEND_NAMES = {
        null, "BACKEND_IOTLB_MSG", "BACKEND_CONFIG_CHANGE_MSG", "BACKEND_VRING_HOST_NOTIFIER_MSG",
        "BACKEND_VRING_CALL", "BACKEND_VRING_ERR", "BACKEND_SHARED_OBJECT_ADD", "BACKEND_SHARED_OBJECT_REMOVE",
        "BACKEND_SHARED_OBJECT_LOOKUP",
    };

    private VhostUserRequest() {
    }

    /** @return true if {@code request} is a front-end request id this implementation knows (1..43) */
    public static boolean isKnown(final int request) {
        return request >= 1 && request <= MAX_REQUEST;
    }

    /** @return the name of front-end request {@code request}, e.g. {@code "SET_MEM_TABLE"}, or {@code "UNKNOWN(n)"} */
    public static String name(final int request) {
        return isKnown(request) ? NAMES[request] : "UNKNOWN(" + Integer.toUnsignedString(request) + ")";
    }

    /** @return the name of back-end request {@code request}, e.g. {@code "BACKEND_CONFIG_CHANGE_MSG"} */
    public static String backendName(final int request) {
        return request >= 1 && request < BACKEND_NAMES.length ? BACKEND_NAMES[request]
                : "UNKNOWN(" + Integer.toUnsignedString(request) + ")";
    }

    /**
     * Whether the back-end answers {@code request} with a reply body of its own, whatever REPLY_ACK says (spec:
     * "the reply payload" of each message; with REPLY_ACK such requests behave as before). SET_LOG_BASE counts:
     * with LOG_SHMFD (the only form with a log fd, which the {@link Validator} requires) QEMU and DPDK wait for an
     * empty reply.
     */
    public static boolean hasExplicitReply(final int request) {
        return switch (request) {
            case GET_FEATURES, GET_PROTOCOL_FEATURES, GET_VRING_BASE, GET_QUEUE_NUM, GET_CONFIG, GET_MAX_MEM_SLOTS,
                 GET_STATUS, SET_LOG_BASE, IOTLB_MSG, GET_INFLIGHT_FD, CREATE_CRYPTO_SESSION, POSTCOPY_ADVISE,
                 POSTCOPY_END, GET_SHARED_OBJECT, SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE -> true;
            default -> false;
        };
    }

    /**
     * Whether the explicit reply of {@code request} is a u64 status (0 success, non-zero failure), so that a
     * refusal can be reported by a non-zero value: IOTLB_MSG, POSTCOPY_END, SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE.
     */
    public static boolean hasStatusReply(final int request) {
        return request == IOTLB_MSG || request == POSTCOPY_END || request == SET_DEVICE_STATE_FD
                || request == CHECK_DEVICE_STATE;
    }
}

package io.vioplane.vhostuser.protocol;

/**
 * vhost-user protocol feature bits (QEMU {@code docs/interop/vhost-user.rst}, "Protocol features"), exchanged
 * with GET/SET_PROTOCOL_FEATURES once the virtio feature bit {@link #VIRTIO_F_PROTOCOL_FEATURES} (30) was offered.
 */
public final class ProtocolFeature {
    /** Virtio feature bit 30 (VHOST_USER_F_PROTOCOL_FEATURES): the back-end speaks GET/SET_PROTOCOL_FEATURES. */
    public static final int VIRTIO_F_PROTOCOL_FEATURES = 30;

    public static final int MQ = 0;
    public static final int LOG_SHMFD = 1;
    public static final int RARP = 2;
    public static final int REPLY_ACK = 3;
    public static final int MTU = 4;
    public static final int BACKEND_REQ = 5;
    public static final int CROSS_ENDIAN = 6;
    public static final int CRYPTO_SESSION = 7;
    public static final int PAGEFAULT = 8;
    public static final int CONFIG = 9;
    public static final int BACKEND_SEND_FD = 10;
    public static final int HOST_NOTIFIER = 11;
    public static final int INFLIGHT_SHMFD = 12;
    public static final int RESET_DEVICE = 13;
    public static final int INBAND_NOTIFICATIONS = 14;
    public static final int CONFIGURE_MEM_SLOTS = 15;
    public static final int STATUS = 16;
    public static final int XEN_MMAP = 17;
    public static final int SHARED_OBJECT = 18;
    public static final int DEVICE_STATE = 19;
    /** The highest protocol feature bit this implementation knows. */
    public static final int MAX_BIT = DEVICE_STATE;

    private static final String[] NAMES = {
        "MQ", "LOG_SHMFD", "RARP", "REPLY_ACK", "MTU", "BACKEND_REQ", "CROSS_ENDIAN", "CRYPTO_SESSION", "PAGEFAULT",
        "CONFIG", "BACKEND_SEND_FD", "HOST_NOTIFIER", "INFLIGHT_SHMFD", "RESET_DEVICE", "INBAND_NOTIFICATIONS",
        "CONFIGURE_MEM_SLOTS", "STATUS", "XEN_MMAP", "SHARED_OBJECT", "DEVICE_STATE",
    };

    private ProtocolFeature() {
    }

    /** @return the mask of feature bit {@code bit} */
    public static long bit(final int bit) {
        return 1L << bit;
    }

    /** @return true if {@code bit} is set in {@code features} */
    public static boolean has(final long features, final int bit) {
        return (features & bit(bit)) != 0;
    }

    /** @return the name of protocol feature bit {@code bit}, or {@code "BIT(n)"} */
    public static String name(final int bit) {
        return bit >= 0 && bit <= MAX_BIT ? NAMES[bit] : "BIT(" + bit + ")";
    }

    /** @return the bit named {@code name} (case-insensitive, e.g. {@code configure_mem_slots}), or -1 */
    public static int bitNamed(final String name) {
        for (int bit = 0; bit <= MAX_BIT; bit++) {
            if (NAMES[bit].equalsIgnoreCase(name)) {
                return bit;
            }
        }
        return -1;
    }

    /** @return the names of the bits set in {@code features}, e.g. {@code "MQ|REPLY_ACK|STATUS"} */
    public static String describe(final long features) {
        final StringBuilder names = new StringBuilder();
        for (int bit = 0; bit < Long.SIZE; bit++) {
            if (has(features, bit)) {
                if (!names.isEmpty()) {
                    names.append('|');
                }
                names.append(name(bit));
            }
        }
        return names.isEmpty() ? "none" : names.toString();
    }
}

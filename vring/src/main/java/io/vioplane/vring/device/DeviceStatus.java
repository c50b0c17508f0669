package io.vioplane.vring.device;

/**
 * The bits of the device status field (VIRTIO 1.x section 2.1).
 */
public final class DeviceStatus {
    /** The guest found the device. */
    public static final int ACKNOWLEDGE = 1;
    /** The guest knows how to drive it. */
    public static final int DRIVER = 2;
    /** The driver is set up and ready to drive the device. */
    public static final int DRIVER_OK = 4;
    /** The driver acknowledged the features it understands; negotiation is complete. */
    public static final int FEATURES_OK = 8;
    /** The device hit an error it cannot recover from without a reset. */
    public static final int DEVICE_NEEDS_RESET = 64;
    /** The driver gave up on the device. */
    public static final int FAILED = 128;

    private DeviceStatus() {
    }

    /** @return the status as readable flags, e.g. {@code "ACKNOWLEDGE|DRIVER|FEATURES_OK"} */
    public static String describe(final int status) {
        if (status == 0) {
            return "RESET";
        }
        final StringBuilder text = new StringBuilder();
        append(text, status, ACKNOWLEDGE, "ACKNOWLEDGE");
        append(text, status, DRIVER, "DRIVER");
        append(text, status, FEATURES_OK, "FEATURES_OK");
        append(text, status, DRIVER_OK, "DRIVER_OK");
        append(text, status, DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET");
        append(text, status, FAILED, "FAILED");
        final int unknown = status & ~(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK | DEVICE_NEEDS_RESET | FAILED);
        if (unknown != 0) {
            append(text, unknown, unknown, "0x" + Integer.toHexString(unknown));
        }
        return text.toString();
    }

    private static void append(final StringBuilder text, final int status, final int bit, final String name) {
        if ((status & bit) != 0) {
            if (!text.isEmpty()) {
                text.append('|');
            }
            text.append(name);
        }
    }
}

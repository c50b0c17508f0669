package io.vioplane.platform.runtime;

/**
 * Type ids of vioplane's counters, so that {@code vioplane stat} can group and filter them.
 */
public final class CounterType {
    /** A counter with no particular kind. */
    public static final int GENERIC = 0;
    /** Process-wide: errors recorded, connections, uptime-related. */
    public static final int PROCESS = 1;
    /** Per-virtqueue data-plane counters: packets, bytes, drops, kicks, calls. */
    public static final int QUEUE = 2;
    /** Per-port counters of a bridge, TAP or NAT. */
    public static final int PORT = 3;
    /** Per-device counters: guest misbehaviour, resets. */
    public static final int DEVICE = 4;
    /** Counters of a protocol connection (vhost-user messages, failures). */
    public static final int CONNECTION = 5;

    private CounterType() {
    }

    /** @return a short name for {@code typeId} */
    public static String name(final int typeId) {
        return switch (typeId) {
            case GENERIC -> "generic";
            case PROCESS -> "process";
            case QUEUE -> "queue";
            case PORT -> "port";
            case DEVICE -> "device";
            case CONNECTION -> "connection";
            default -> "type-" + typeId;
        };
    }
}

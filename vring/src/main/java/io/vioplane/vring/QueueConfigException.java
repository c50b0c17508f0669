package io.vioplane.vring;

import java.io.Serial;

/**
 * A driver configured a queue that cannot be enabled: bad size, misaligned or unmapped ring areas. Thrown
 * once, when the queue is enabled (VIRTIO 1.x sections 2.7 and 2.8 give sizes and alignments), never on
 * the data path.
 */
public final class QueueConfigException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Why a configuration was refused. */
    public enum Reason {
        /** Size 0, above 32768, or not a power of two where one is required. */
        BAD_SIZE,
        /** A ring area's address is not aligned as the layout requires. */
        MISALIGNED,
        /** A ring area is not wholly inside one guest-memory region. */
        OUT_OF_RANGE
    }

    private final Reason reason;

    /** @param reason why; @param message what, naming the area and address */
    public QueueConfigException(final Reason reason, final String message) {
        super(message);
        this.reason = reason;
    }

    /** @return why the configuration was refused */
    public Reason reason() {
        return reason;
    }
}

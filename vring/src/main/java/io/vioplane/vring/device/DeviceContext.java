package io.vioplane.vring.device;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.RingViolation;

/**
 * What a device gets when the driver sets DRIVER_OK: the negotiated features, the memory its queues and
 * buffers live in, the enabled queues with their interrupts, and the way to report an unrecoverable error.
 *
 * @param features        the negotiated feature word
 * @param memory          where the guest's buffers are
 * @param queues          the queues by index; null where the driver did not enable one
 * @param queueInterrupts the used-buffer interrupt of each queue (same indices)
 * @param configInterrupt the configuration-change interrupt
 * @param errors          where the device reports that it needs a reset
 */
public record DeviceContext(long features, DmaSpace memory, DeviceQueue[] queues, Interrupt[] queueInterrupts,
                            Interrupt configInterrupt, NeedsResetListener errors) {
    /** Receives a device's report that it cannot go on without a reset. */
    @FunctionalInterface
    public interface NeedsResetListener {
        /**
         * @param queueIndex the broken queue, or -1 for the device as a whole
         * @param violation  what the driver did, or null for another cause
         * @param detail     a message naming who was at fault
         */
        void needsReset(int queueIndex, RingViolation violation, String detail);
    }

    /** Reports that queue {@code queueIndex} broke with {@code violation}. */
    public void queueBroken(final int queueIndex, final RingViolation violation) {
        errors.needsReset(queueIndex, violation, "guest driver broke queue " + queueIndex + ": " + violation.description());
    }
}

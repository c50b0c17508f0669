package io.vioplane.vring.device;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.QueueState;

/**
 * A {@link VirtioDevice} whose queues a transport can start, stop and enable one at a time, as a vhost-user
 * back-end must (QEMU docs/interop/vhost-user.rst, "Starting and stopping rings": a ring starts on its kick,
 * stops on GET_VRING_BASE with its state returned, and is enabled by SET_VRING_ENABLE), rather than all at once
 * at DRIVER_OK (VIRTIO 1.2 section 3.1.1). {@link #activate} is then the all-at-once case of the same calls.
 * Every method runs on the data-plane thread that serves the device.
 */
public interface QueueServingDevice extends VirtioDevice {
    /** Sets the features the driver and device agreed on; call before starting queues. */
    void setNegotiatedFeatures(long features);

    /** Sets where a queue the driver broke is reported (DEVICE_NEEDS_RESET, VIRTIO 1.2 section 2.1.2). */
    void setNeedsResetListener(DeviceContext.NeedsResetListener listener);

    /**
     * Starts serving queue {@code index}.
     *
     * @param interrupt the queue's used-buffer notification
     */
    void startQueue(int index, DeviceQueue queue, Interrupt interrupt);

    /** Stops serving queue {@code index}; @return where it stood (to resume from), or null if it was not running */
    QueueState stopQueue(int index);

    /** Enables or disables a started queue (SET_VRING_ENABLE); @return false if queue {@code index} is not started */
    boolean setQueueEnabled(int index, boolean enabled);

    /** Counts {@code count} driver notifications (kicks) of queue {@code index}. */
    void countKicks(int index, long count);

    /** Sets the log of pages the device writes (live migration), or {@link DirtyPageLog#NONE} to stop logging. */
    void setDirtyLog(DirtyPageLog log);

    /** Starts every queue in {@code context} with the context's features and reset listener. */
    @Override
    default void activate(final DeviceContext context) {
        setNeedsResetListener(context.errors());
        setNegotiatedFeatures(context.features());
        for (int i = 0; i < context.queues().length; i++) {
            if (context.queues()[i] != null) {
                startQueue(i, context.queues()[i], context.queueInterrupts()[i]);
            }
        }
    }
}

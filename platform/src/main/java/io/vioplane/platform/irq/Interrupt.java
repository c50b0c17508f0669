package io.vioplane.platform.irq;

/**
 * An interrupt a device can raise toward its driver: a virtqueue's used-buffer notification (VIRTIO 1.x
 * section 2.3), an MSI vector, a legacy line.
 *
 * <p>Implementations must be cheap and must not block: the data plane triggers from its own thread.
 */
@FunctionalInterface
public interface Interrupt {
    /** An interrupt that goes nowhere: for queues whose driver asked for none. */
    Interrupt NONE = () -> { };

    /** Raises the interrupt. */
    void trigger();
}

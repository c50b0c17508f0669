package io.vioplane.pciremote;

import io.vioplane.platform.pci.PciFunction;

/**
 * What {@link MpqemuServer} serves: a PCI function (configuration space, BARs with their
 * {@link PciFunction.BarHandler}), a reset, and the device's own timed and inbound work, which the server runs on its
 * thread between QEMU's requests (so the device is only ever touched by one thread).
 */
public interface RemoteDevice {
    /** @return the function whose config space and BARs QEMU reaches */
    PciFunction function();

    /** A device (function-level) reset, as at power-on: QEMU's DEVICE_RESET on a system reset. */
    void reset();

    /**
     * Does timed and inbound work (timers, frames waiting at the port).
     *
     * @return units of work done (0 when idle)
     */
    default int poll() {
        return 0;
    }

    /** @return when {@link #poll} next has timed work, {@link System#nanoTime} time; MAX_VALUE if none */
    default long nextDeadlineNs() {
        return Long.MAX_VALUE;
    }
}

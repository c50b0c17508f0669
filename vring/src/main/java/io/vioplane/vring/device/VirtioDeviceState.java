package io.vioplane.vring.device;

import io.vioplane.vring.QueueConfigException;

/**
 * The device status state machine and feature negotiation of one device (VIRTIO 1.x sections 2.1, 2.2 and
 * 3.1.1), shared by every transport.
 *
 * <ul>
 *   <li>Writing 0 resets the device: status, driver features and negotiated features are cleared, the device
 *       and the transport forget their queues, and the configuration generation moves on.</li>
 *   <li>Setting FEATURES_OK validates the driver's features (a subset of the offered ones, VERSION_1, and the
 *       device's dependency rules); a refused set leaves FEATURES_OK clear, which the driver reads back and
 *       then gives up (section 3.1.1 step 6).</li>
 *   <li>Setting DRIVER_OK after FEATURES_OK activates the device through the transport; DRIVER_OK without
 *       FEATURES_OK, or an activation the driver's queue configuration makes impossible, sets
 *       DEVICE_NEEDS_RESET instead.</li>
 *   <li>The driver cannot clear a bit except by writing 0, cannot set DEVICE_NEEDS_RESET, and cannot change
 *       its features after FEATURES_OK: such writes are ignored and counted.</li>
 *   <li>{@link #markNeedsReset} (a broken queue, a device error) sets DEVICE_NEEDS_RESET and raises the
 *       configuration-change interrupt (section 2.1.2).</li>
 * </ul>
 *
 * Thread-safe: the control plane and a data-plane thread reporting an error may call concurrently.
 */
public final class VirtioDeviceState {
    /** What the transport does at the lifecycle points the status machine decides. */
    public interface Transport {
        /**
         * The driver set DRIVER_OK: build the enabled queues from what the driver configured and activate the
         * device with them.
         *
         * @throws QueueConfigException if a queue cannot be enabled
         */
        void activate(long negotiatedFeatures);

        /** The driver reset the device: stop the queues and forget them. */
        void deactivate();

        /** Raise the configuration-change interrupt. */
        void signalConfigChange();
    }

    private static final int DRIVER_BITS = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK
            | DeviceStatus.DRIVER_OK | DeviceStatus.FAILED;

    private final VirtioDevice device;
    private final Transport transport;
    private int status;
    private long driverFeatures;
    private long negotiatedFeatures;
    private int configGeneration;
    private long ignoredWrites;
    private String lastError;

    /** @param device the device; @param transport what acts on its lifecycle */
    public VirtioDeviceState(final VirtioDevice device, final Transport transport) {
        this.device = device;
        this.transport = transport;
    }

    /** @return the device */
    public VirtioDevice device() {
        return device;
    }

    /** @return the current status byte */
    public synchronized int status() {
        return status;
    }

    /** @return the features the device offers */
    public long deviceFeatures() {
        return device.offeredFeatures();
    }

    /** @return the features the driver wrote last */
    public synchronized long driverFeatures() {
        return driverFeatures;
    }

    /** @return the features in force since FEATURES_OK, or 0 before */
    public synchronized long negotiatedFeatures() {
        return negotiatedFeatures;
    }

    /** @return the configuration generation (section 2.5.1) */
    public synchronized int configGeneration() {
        return configGeneration;
    }

    /** @return writes the driver was not allowed to make and that were ignored */
    public synchronized long ignoredWrites() {
        return ignoredWrites;
    }

    /** @return why the device last refused features, failed activation or needed a reset; null if never */
    public synchronized String lastError() {
        return lastError;
    }

    /** The driver writes its accepted features; ignored once FEATURES_OK is set. */
    public synchronized void writeDriverFeatures(final long features) {
        if ((status & DeviceStatus.FEATURES_OK) != 0) {
            ignoredWrites++;
            return;
        }
        driverFeatures = features;
    }

    /** The driver writes the status byte. */
    public synchronized void writeStatus(final int value) {
        final int written = value & 0xFF;
        if (written == 0) {
            reset();
            return;
        }
        final int cleared = status & DRIVER_BITS & ~written;
        if (cleared != 0 || (written & DeviceStatus.DEVICE_NEEDS_RESET & ~status) != 0) {
            ignoredWrites++;
        }
        final int added = written & DRIVER_BITS & ~status;
        int next = status | added;
        if ((added & DeviceStatus.FEATURES_OK) != 0) {
            final String refusal = device.featureRules().check(device.offeredFeatures(), driverFeatures);
            if (refusal != null) {
                lastError = refusal;
                next &= ~DeviceStatus.FEATURES_OK;
            } else {
                negotiatedFeatures = driverFeatures;
            }
        }
        status = next;
        if ((added & DeviceStatus.DRIVER_OK) != 0) {
            if ((status & DeviceStatus.FEATURES_OK) == 0) {
                needsReset("driver set DRIVER_OK before features were accepted");
            } else {
                try {
                    transport.activate(negotiatedFeatures);
                } catch (QueueConfigException e) {
                    needsReset("guest driver configured a queue that cannot be enabled: " + e.getMessage());
                }
            }
        }
    }

    private void reset() {
        final boolean wasActive = (status & DeviceStatus.DRIVER_OK) != 0;
        status = 0;
        driverFeatures = 0;
        negotiatedFeatures = 0;
        configGeneration++;
        if (wasActive) {
            transport.deactivate();
        }
        device.reset();
    }

    /**
     * The device cannot go on: set DEVICE_NEEDS_RESET and tell the driver with a configuration-change
     * interrupt. Only meaningful once the driver is set up; before that the error is only recorded.
     */
    public synchronized void markNeedsReset(final String why) {
        needsReset(why);
    }

    private void needsReset(final String why) {
        lastError = why;
        if ((status & DeviceStatus.DEVICE_NEEDS_RESET) != 0) {
            return;
        }
        if ((status & (DeviceStatus.DRIVER | DeviceStatus.DRIVER_OK)) != 0) {
            status |= DeviceStatus.DEVICE_NEEDS_RESET;
            transport.signalConfigChange();
        }
    }

    /** The device changed its configuration space: bump the generation and tell the driver. */
    public synchronized void configChanged() {
        configGeneration++;
        if ((status & DeviceStatus.DRIVER_OK) != 0) {
            transport.signalConfigChange();
        }
    }

    @Override
    public synchronized String toString() {
        return "VirtioDeviceState[" + DeviceStatus.describe(status) + ", features=0x" + Long.toHexString(negotiatedFeatures)
                + "]";
    }
}

package io.vioplane.vring.device;

import java.lang.foreign.MemorySegment;

/**
 * A virtio device model, independent of the transport that carries it (VIRTIO 1.x section 2: feature bits,
 * configuration space, virtqueues; section 5: the device types). virtio-pci, virtio-mmio and vhost-user each
 * drive a device through this interface and {@link VirtioDeviceState}.
 *
 * <p>Lifecycle: the transport negotiates features and status with {@link VirtioDeviceState}; at DRIVER_OK it
 * builds the enabled queues and calls {@link #activate}; a reset calls {@link #reset()}, after which the
 * device forgets everything the driver told it.
 */
public interface VirtioDevice {
    /** @return the virtio device id (section 5: 1 network, 2 block, ...) */
    int deviceId();

    /** @return every feature bit the device offers, ring features included */
    long offeredFeatures();

    /** @return the dependencies between the device's features */
    FeatureRules featureRules();

    /** @return the most virtqueues the device has */
    int maxQueues();

    /** @return the largest size queue {@code queueIndex} may have */
    int maxQueueSize(int queueIndex);

    /** @return bytes of device-specific configuration space */
    int configSize();

    /** Copies {@code destination.byteSize()} bytes of configuration space from {@code offset}. */
    void readConfig(long offset, MemorySegment destination);

    /** Writes configuration space (only fields the device type makes writable take effect). */
    void writeConfig(long offset, MemorySegment source);

    /**
     * The driver set DRIVER_OK: start serving.
     *
     * @param context negotiated features, the enabled queues and how to interrupt the driver
     */
    void activate(DeviceContext context);

    /** The driver reset the device: stop serving and forget the queues; the device may be activated again. */
    void reset();
}

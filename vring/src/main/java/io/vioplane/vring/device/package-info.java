/**
 * The virtio device SPI (VIRTIO 1.x sections 2.1 to 2.5 and 3.1): a transport-free
 * {@link io.vioplane.vring.device.VirtioDevice}, the feature dependency rules it declares, and the device
 * status state machine ({@link io.vioplane.vring.device.VirtioDeviceState}) that every transport drives the
 * same way, including FEATURES_OK validation and DEVICE_NEEDS_RESET.
 */
package io.vioplane.vring.device;

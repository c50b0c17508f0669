/**
 * The split virtqueue (VIRTIO 1.x section 2.7): a descriptor table, an available ring the driver writes and
 * a used ring the device writes. {@link io.vioplane.vring.split.SplitDeviceQueue} is the device side,
 * {@link io.vioplane.vring.split.SplitDriverQueue} the driver side.
 */
package io.vioplane.vring.split;

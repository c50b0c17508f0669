/**
 * The packed virtqueue (VIRTIO 1.x section 2.8): one descriptor ring that driver and device both write,
 * with wrap counters instead of indices, and two event-suppression structures.
 * {@link io.vioplane.vring.packed.PackedDeviceQueue} is the device side,
 * {@link io.vioplane.vring.packed.PackedDriverQueue} the driver side.
 */
package io.vioplane.vring.packed;

/**
 * Virtqueues (VIRTIO 1.x sections 2.6 to 2.8): split and packed rings over guest memory, each with a
 * device side ({@link io.vioplane.vring.DeviceQueue}: what a back-end uses) and a driver side
 * ({@link io.vioplane.vring.DriverQueue}: what a guest driver, a benchmark or an in-process front-end uses).
 *
 * <p>The device side treats the driver as hostile: every index and descriptor read from guest memory is
 * read once into a local, checked, then used; a protocol violation becomes a typed
 * {@link io.vioplane.vring.RingViolation} that breaks only that queue, never an exception on the data path
 * and never an access outside guest memory. Chains are walked into a reusable
 * {@link io.vioplane.vring.DescriptorChain} cursor: no allocation per chain.
 */
package io.vioplane.vring;

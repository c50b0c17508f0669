/**
 * The virtio network device (VIRTIO 1.x section 5.1), independent of its transport: features and their
 * dependency rules, the virtio_net_hdr, the configuration space, the transmit and receive engines (mergeable
 * receive buffers included), the control queue and multiqueue. Frames leave and enter through the
 * {@link io.vioplane.virtionet.port.NetPort} SPI.
 */
package io.vioplane.virtionet;

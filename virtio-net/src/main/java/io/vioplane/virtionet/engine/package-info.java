/**
 * The virtio-net data path (VIRTIO 1.x sections 5.1.6 and 5.1.6.5): the transmit engine that takes frames
 * from a guest's transmit queue to a {@link io.vioplane.virtionet.port.NetPort}, the receive engine that writes
 * frames into the guest's receive buffers (mergeable or not), and the control queue. One data-plane thread
 * runs all of a device's engines; nothing here allocates or locks per frame.
 */
package io.vioplane.virtionet.engine;

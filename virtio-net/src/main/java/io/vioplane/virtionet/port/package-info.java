/**
 * Where a virtio-net device's frames go: the {@link io.vioplane.virtionet.port.NetPort} SPI and the ports of
 * this module (echo, discard). A frame leaving a guest reaches a port as a {@link io.vioplane.virtionet.port.TxFrame}
 * view over the guest's own buffers (zero copy: a port copies only what it keeps); a port hands frames to a
 * guest through an {@link io.vioplane.virtionet.port.RxDestination} that writes them straight into the guest's
 * receive buffers.
 */
package io.vioplane.virtionet.port;

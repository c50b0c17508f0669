/**
 * A PCI function served to another VMM process: the remote side of QEMU's multi-process protocol ("mpqemu",
 * QEMU's docs/devel/multi-process.rst; the front-end is {@code -device x-pci-proxy-dev,fd=N}). QEMU forwards the
 * function's configuration cycles and BAR accesses over a connected AF_UNIX socket and hands over guest RAM as memfd
 * descriptors; this package answers them from any {@link io.vioplane.platform.pci.PciFunction} and gives the device
 * a {@link io.vioplane.platform.memory.DmaSpace} over the mapped RAM and an INTx pin over QEMU's irqfd.
 *
 * <p>Device-agnostic, and kept out of the device modules: the e1000 stays transport-free, like virtio-net is under
 * vhost-user. Everything QEMU sends is checked once ({@link MpqemuMessage#refusal}), counted
 * ({@link MpqemuCounter}) and answered or refused; no value from QEMU indexes anything unchecked.
 */
package io.vioplane.pciremote;

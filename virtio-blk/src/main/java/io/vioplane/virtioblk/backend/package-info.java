/**
 * Where a virtio-blk device's sectors live: the {@link io.vioplane.virtioblk.backend.BlockBackend} SPI and the
 * raw-image backend (a file or a block device, asynchronous I/O through io_uring).
 */
package io.vioplane.virtioblk.backend;

/** virtio-blk served over vhost-user: the block device type of the device-agnostic back-end. */
package io.vioplane.vhostuser.blk;

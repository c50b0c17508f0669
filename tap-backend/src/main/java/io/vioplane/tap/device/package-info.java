/**
 * Linux TAP devices (Documentation/networking/tuntap.rst): opened through /dev/net/tun with a virtio-net header
 * on every frame, offloads set from what the guest negotiated, one queue or several (IFF_MULTI_QUEUE).
 */
package io.vioplane.tap.device;

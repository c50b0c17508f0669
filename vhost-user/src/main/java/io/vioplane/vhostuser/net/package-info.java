/**
 * The virtio-net device served over vhost-user: the adapter between the device-agnostic back-end and
 * {@link io.vioplane.virtionet.engine.VirtioNetDevice}.
 */
package io.vioplane.vhostuser.net;

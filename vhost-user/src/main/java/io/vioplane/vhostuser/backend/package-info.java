/**
 * The device-agnostic vhost-user back-end (QEMU docs/interop/vhost-user.rst): the front-end's memory table,
 * the vrings with their kick, call and error eventfds, the ring states (stopped, started, enabled), the dirty
 * log for live migration, and the lifecycle of a connection. Devices plug in through
 * {@link io.vioplane.vhostuser.backend.VhostUserDevice}.
 */
package io.vioplane.vhostuser.backend;

/**
 * The vhost-user wire protocol (QEMU {@code docs/interop/vhost-user.rst}): request ids and protocol features,
 * the message header, a flyweight over a received message, the {@link io.vioplane.vhostuser.protocol.Validator}
 * with one rule per request type, and the interface of the device-agnostic
 * {@link io.vioplane.vhostuser.protocol.VhostUserHandler} the transport drives.
 */
package io.vioplane.vhostuser.protocol;

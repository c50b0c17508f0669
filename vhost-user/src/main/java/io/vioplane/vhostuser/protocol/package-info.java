/**
 * The vhost-user wire protocol (QEMU {@code docs/interop/vhost-user.rst}): request ids and protocol features,
 * the message header, a flyweight over a received message, the {@link io.vioplane.vhostuser.protocol.Validator}
 * with one rule per request type, the reply payloads ({@link io.vioplane.vhostuser.protocol.ReplyWriter}) and how
 * each request type reports a failure ({@link io.vioplane.vhostuser.protocol.FailureReport}). Wire format only:
 * nothing here knows the transport.
 */
package io.vioplane.vhostuser.protocol;

/**
 * Guest networking onto the host (issue: bridged, NAT and host-only modes): the L2 learning
 * {@link io.vioplane.tap.bridge.Bridge} that joins guest ports and host TAP devices, and the virtual gateway of
 * {@link io.vioplane.tap.gateway.NatGateway} for NAT (onto a TAP it owns) and host-only modes, with NAT proper
 * in {@code io.vioplane.tap.nat}.
 */
package io.vioplane.tap;

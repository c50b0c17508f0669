/**
 * Guest networking onto the host (issue: bridged, NAT and host-only modes): the L2 learning
 * {@link io.vioplane.tap.bridge.Bridge} that joins guest ports and host TAP devices.
 */
package io.vioplane.tap;

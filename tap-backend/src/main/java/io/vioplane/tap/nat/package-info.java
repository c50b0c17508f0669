/**
 * NAT and host-only modes of a guest bridge: a virtual gateway ({@link io.vioplane.tap.nat.NatGateway}) that
 * joins the guests' {@link io.vioplane.tap.bridge.Bridge} and answers ARP (RFC 826), ICMP echo (RFC 792) and
 * DHCP (RFC 2131/2132) for itself, and in NAT mode translates guest flows onto its own address on a TAP device
 * it owns (RFC 3022 NAPT; RFC 4787 and RFC 5382 mapping, filtering and timeouts; RFC 5508 ICMP errors; RFC 1624
 * incremental checksums, partial checksums and GSO frames included; first-fragment tracking), with port
 * forwarding. Configured by a validated {@link io.vioplane.tap.nat.NatConfig}; every drop counted by name
 * ({@link io.vioplane.tap.nat.NatDrop}). One data-plane thread, no locks, no allocation per forwarded frame.
 */
package io.vioplane.tap.nat;

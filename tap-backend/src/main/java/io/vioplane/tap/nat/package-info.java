/**
 * NAT proper: network address and port translation of checked IPv4 packets (RFC 3022 NAPT; RFC 4787 and
 * RFC 5382 mapping, filtering and timeouts; RFC 5508 ICMP errors; RFC 1624 incremental checksums, partial
 * checksums and GSO frames included; first-fragment tracking), with port forwarding. The pieces:
 * {@link io.vioplane.tap.nat.NatTranslator} over a {@link io.vioplane.tap.nat.ConnectionTable}, port mappings,
 * a fragment table and the ICMP error translator; {@link io.vioplane.tap.nat.Ipv4Packet}, the checked view of
 * a packet; the counters every part of the gateway counts into ({@link io.vioplane.tap.nat.NatCounters},
 * {@link io.vioplane.tap.nat.NatDrop}, {@link io.vioplane.tap.nat.NatEvent}). Wire formats come from
 * {@code io.vioplane.platform.packet}. The gateway that serves guests and owns the host link is
 * {@code io.vioplane.tap.gateway}.
 */
package io.vioplane.tap.nat;

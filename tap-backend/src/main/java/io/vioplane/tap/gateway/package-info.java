/**
 * The virtual gateway of a guest bridge, in NAT and host-only modes: {@link io.vioplane.tap.gateway.NatGateway}
 * joins the guests' {@link io.vioplane.tap.bridge.Bridge} and serves them the gateway services, ARP for its own
 * address (RFC 826, {@code GatewayArp}), ICMP echo (RFC 792, {@code IcmpResponder}) and DHCP (RFC 2131/2132,
 * {@code DhcpServer} with its leases), and in NAT mode hands guest flows to the translator of
 * {@link io.vioplane.tap.nat} and sends them from a TAP device it owns ({@link io.vioplane.tap.gateway.HostLink}).
 * Configured by a validated {@link io.vioplane.tap.gateway.NatConfig}; every drop counted by name
 * ({@link io.vioplane.tap.nat.NatDrop}). One data-plane thread, no locks, no allocation per forwarded frame.
 * Depends on {@code io.vioplane.tap.nat}; nothing there depends on this package.
 */
package io.vioplane.tap.gateway;

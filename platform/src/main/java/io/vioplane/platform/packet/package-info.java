/**
 * Packet formats on the wire, shared by every module that parses or builds frames (virtio-net's segmentation and
 * checksum offloads, the TAP bridge and NAT, device models): Ethernet II with 802.1Q (IEEE 802.3, 802.1Q), IPv4
 * (RFC 791), IPv6 (RFC 8200), TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792), their field offsets with the layout
 * drawn in each class, network-byte-order access ({@link io.vioplane.platform.packet.Wire}), addresses, and the
 * Internet checksum (RFC 1071, incremental updates per RFC 1624).
 */
package io.vioplane.platform.packet;

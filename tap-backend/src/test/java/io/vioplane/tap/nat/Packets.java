package io.vioplane.tap.nat;

import io.vioplane.platform.testing.ReferenceChecksum;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.MacAddress;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Builds and reads test frames with its own checksum code (RFC 1071, a plain byte loop), independent of the
 * production {@link io.vioplane.platform.packet.Checksums}, so that tests check the gateway against a second implementation.
 */
public final class Packets {
    public static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMP = 1;
    public static final int SYN = 0x02;
    public static final int ACK = 0x10;
    public static final int FIN = 0x01;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;

    private Packets() {
    }

    public static int ip(final String dotted) {
        return Ipv4Address.parse(dotted).value();
    }

    public static byte[] mac(final String text) {
        return MacAddress.parse(text).bytes();
    }

    /** @return the one's-complement sum of {@code length} bytes, folded, not complemented */
    public static int sum(final byte[] data, final int offset, final int length, final long initial) {
        return ReferenceChecksum.sum(data, offset, length, initial);
    }

    public static int checksum(final byte[] data, final int offset, final int length, final long initial) {
        return ~sum(data, offset, length, initial) & 0xFFFF;
    }

    public static long pseudo(final int source, final int destination, final int protocol, final int length) {
        return (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF) + protocol + length;
    }

    public static int u16(final byte[] data, final int offset) {
        return (data[offset] & 0xFF) << 8 | (data[offset + 1] & 0xFF);
    }

    public static int u32(final byte[] data, final int offset) {
        return u16(data, offset) << 16 | u16(data, offset + 2);
    }

    public static void put16(final byte[] data, final int offset, final int value) {
        data[offset] = (byte) (value >>> 8);
        data[offset + 1] = (byte) value;
    }

    public static void put32(final byte[] data, final int offset, final int value) {
        put16(data, offset, value >>> 16);
        put16(data, offset + 2, value);
    }

    /** A TCP segment with its checksum over the pseudo-header. */
    public static byte[] tcp(final int source, final int destination, final int sourcePort, final int destinationPort,
                      final long sequence, final long acknowledgment, final int flags, final byte[] data) {
        final byte[] segment = new byte[20 + data.length];
        put16(segment, 0, sourcePort);
        put16(segment, 2, destinationPort);
        put32(segment, 4, (int) sequence);
        put32(segment, 8, (int) acknowledgment);
        segment[12] = 0x50;
        segment[13] = (byte) flags;
        put16(segment, 14, 64240);
        System.arraycopy(data, 0, segment, 20, data.length);
        put16(segment, 16, checksum(segment, 0, segment.length, pseudo(source, destination, TCP, segment.length)));
        return segment;
    }

    /** A UDP datagram; {@code withChecksum} false leaves it 0 (none). */
    public static byte[] udp(final int source, final int destination, final int sourcePort, final int destinationPort,
                      final byte[] data, final boolean withChecksum) {
        final byte[] datagram = new byte[8 + data.length];
        put16(datagram, 0, sourcePort);
        put16(datagram, 2, destinationPort);
        put16(datagram, 4, datagram.length);
        System.arraycopy(data, 0, datagram, 8, data.length);
        if (withChecksum) {
            int value = checksum(datagram, 0, datagram.length, pseudo(source, destination, UDP, datagram.length));
            put16(datagram, 6, value == 0 ? 0xFFFF : value);
        }
        return datagram;
    }

    /** An ICMP echo request (type 8) or reply (type 0). */
    public static byte[] icmpEcho(final int type, final int identifier, final int sequence, final byte[] data) {
        final byte[] message = new byte[8 + data.length];
        message[0] = (byte) type;
        put16(message, 4, identifier);
        put16(message, 6, sequence);
        System.arraycopy(data, 0, message, 8, data.length);
        put16(message, 2, checksum(message, 0, message.length, 0));
        return message;
    }

    /** An ICMP error quoting {@code quoted} (an IP packet, cut to its header + 8 bytes unless {@code whole}). */
    public static byte[] icmpError(final int type, final int code, final byte[] quotedPacket, final int quoteBytes) {
        final byte[] message = new byte[8 + quoteBytes];
        message[0] = (byte) type;
        message[1] = (byte) code;
        System.arraycopy(quotedPacket, 0, message, 8, quoteBytes);
        put16(message, 2, checksum(message, 0, message.length, 0));
        return message;
    }

    /** Builds an IPv4 packet (and frame); fields may be broken on purpose. */
    public static final class Ip {
        byte[] destinationMac = BROADCAST;
        byte[] sourceMac = new byte[6];
        int source;
        int destination;
        int protocol;
        int ttl = 64;
        int identification = 0x1234;
        int flagsAndOffset;
        byte[] options = new byte[0];
        byte[] payload = new byte[0];

        public Ip macs(final byte[] destinationMacValue, final byte[] sourceMacValue) {
            destinationMac = destinationMacValue;
            sourceMac = sourceMacValue;
            return this;
        }

        public Ip addresses(final int sourceValue, final int destinationValue) {
            source = sourceValue;
            destination = destinationValue;
            return this;
        }

        public Ip payload(final int protocolValue, final byte[] bytes) {
            protocol = protocolValue;
            payload = bytes;
            return this;
        }

        public Ip ttl(final int value) {
            ttl = value;
            return this;
        }

        public Ip fragment(final int flagsAndOffsetValue, final int identificationValue) {
            flagsAndOffset = flagsAndOffsetValue;
            identification = identificationValue;
            return this;
        }

        /** @return the IP packet alone */
        public byte[] packet() {
            final int headerBytes = 20 + options.length;
            final byte[] packet = new byte[headerBytes + payload.length];
            packet[0] = (byte) (0x40 | headerBytes / 4);
            put16(packet, 2, packet.length);
            put16(packet, 4, identification);
            put16(packet, 6, flagsAndOffset);
            packet[8] = (byte) ttl;
            packet[9] = (byte) protocol;
            put32(packet, 12, source);
            put32(packet, 16, destination);
            System.arraycopy(options, 0, packet, 20, options.length);
            put16(packet, 10, checksum(packet, 0, headerBytes, 0));
            System.arraycopy(payload, 0, packet, headerBytes, payload.length);
            return packet;
        }

        /** @return the Ethernet frame, padded to 60 bytes */
        public byte[] frame() {
            return ethernet(destinationMac, sourceMac, 0x0800, packet());
        }
    }

    public static byte[] ethernet(final byte[] destination, final byte[] source, final int type, final byte[] payload) {
        final byte[] frame = new byte[Math.max(60, 14 + payload.length)];
        System.arraycopy(destination, 0, frame, 0, 6);
        System.arraycopy(source, 0, frame, 6, 6);
        put16(frame, 12, type);
        System.arraycopy(payload, 0, frame, 14, payload.length);
        return frame;
    }

    public static byte[] arp(final int operation, final byte[] destinationMac, final byte[] senderMac, final int senderIp,
                      final byte[] targetMac, final int targetIp) {
        final ByteBuffer arp = ByteBuffer.allocate(28);
        arp.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) operation);
        arp.put(senderMac).putInt(senderIp).put(targetMac).putInt(targetIp);
        return ethernet(destinationMac, senderMac, 0x0806, arp.array());
    }

    /** Recomputes the IPv4 header checksum of a frame after a test broke a field on purpose. */
    public static byte[] refreshIpChecksum(final byte[] frame) {
        final int headerBytes = (frame[14] & 0xF) * 4;
        put16(frame, 24, 0);
        put16(frame, 24, checksum(frame, 14, Math.min(headerBytes, frame.length - 14), 0));
        return frame;
    }

    /** A frame as received, parsed by the test (not by the gateway). */
    public record Parsed(byte[] frame, long destinationMac, long sourceMac, int etherType, int headerBytes, int totalBytes,
                  int ttl, int protocol, int source, int destination, int l4, int sourcePort, int destinationPort,
                  int flags) {
        public static Parsed of(final byte[] frame) {
            final long destinationMac = MacAddress.of(Arrays.copyOfRange(frame, 0, 6)).value();
            final long sourceMac = MacAddress.of(Arrays.copyOfRange(frame, 6, 12)).value();
            final int type = u16(frame, 12);
            if (type != 0x0800) {
                return new Parsed(frame, destinationMac, sourceMac, type, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            }
            final int headerBytes = (frame[14] & 0xF) * 4;
            final int l4 = 14 + headerBytes;
            final int protocol = frame[23] & 0xFF;
            final int sourcePort = protocol == ICMP ? u16(frame, l4 + 4) : u16(frame, l4);
            final int destinationPort = protocol == ICMP ? frame[l4] & 0xFF : u16(frame, l4 + 2);
            final int flags = protocol == TCP ? frame[l4 + 13] & 0xFF : 0;
            return new Parsed(frame, destinationMac, sourceMac, type, headerBytes, u16(frame, 16), frame[22] & 0xFF,
                    protocol, u32(frame, 26), u32(frame, 30), l4, sourcePort, destinationPort, flags);
        }

        public boolean ipChecksumValid() {
            return sum(frame, 14, headerBytes, 0) == 0xFFFF;
        }

        /** @return true if the transport checksum verifies from scratch (UDP 0 = none verifies) */
        public boolean transportChecksumValid() {
            final int length = totalBytes - headerBytes;
            return switch (protocol) {
                case TCP -> sum(frame, l4, length, pseudo(source, destination, TCP, length)) == 0xFFFF;
                case UDP -> u16(frame, l4 + 6) == 0
                        || sum(frame, l4, u16(frame, l4 + 4), pseudo(source, destination, UDP, u16(frame, l4
                                + 4))) == 0xFFFF;
                case ICMP -> sum(frame, l4, length, 0) == 0xFFFF;
                default -> false;
            };
        }

        public long sequence() {
            return u32(frame, l4 + 4) & 0xFFFF_FFFFL;
        }

        public long acknowledgment() {
            return u32(frame, l4 + 8) & 0xFFFF_FFFFL;
        }

        public int icmpType() {
            return frame[l4] & 0xFF;
        }

        public byte[] tcpData() {
            final int dataOffset = (frame[l4 + 12] >>> 4 & 0xF) * 4;
            return Arrays.copyOfRange(frame, l4 + dataOffset, 14 + totalBytes);
        }

        public byte[] udpData() {
            return Arrays.copyOfRange(frame, l4 + 8, l4 + u16(frame, l4 + 4));
        }

        /** @return the IP packet quoted by an ICMP error */
        public Parsed quoted() {
            final byte[] inner = Arrays.copyOfRange(frame, l4 + 8, 14 + totalBytes);
            return Parsed.of(ethernet(new byte[6], new byte[6], 0x0800, inner));
        }
    }
}

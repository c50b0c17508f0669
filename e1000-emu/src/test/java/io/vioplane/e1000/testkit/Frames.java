package io.vioplane.e1000.testkit;

import io.vioplane.platform.testing.ReferenceChecksum;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Test frames (Ethernet/IPv4/TCP or UDP) and independent checksum arithmetic to verify the device's work. */
public final class Frames {
    /** The device's address in tests: 52:54:00:12:34:56. */
    public static final long DEVICE_MAC = 0x5634_1200_5452L;
    public static final byte[] DEVICE_MAC_BYTES = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    public static final byte[] PEER_MAC_BYTES = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    public static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private Frames() {
    }

    /** @return an Ethernet frame {@code destination <- source} with ethertype 0x88B5 and {@code payload} bytes */
    public static byte[] raw(final byte[] destination, final byte[] source, final int payloadBytes) {
        final ByteBuffer frame = ByteBuffer.allocate(14 + payloadBytes);
        frame.put(destination).put(source).putShort((short) 0x88B5);
        for (int i = 0; i < payloadBytes; i++) {
            frame.put((byte) (i * 7 + 3));
        }
        return frame.array();
    }

    /**
     * @return an IPv4 TCP (protocol 6) or UDP (17) frame with {@code payloadBytes} of payload, checksums left zero
     *     (the caller or the device fills them)
     */
    public static byte[] ipv4(final byte[] destination, final byte[] source, final int protocol,
                              final int payloadBytes) {
        final int transportHeader = protocol == 6 ? 20 : 8;
        final ByteBuffer frame = ByteBuffer.allocate(14 + 20 + transportHeader + payloadBytes);
        frame.put(destination).put(source).putShort((short) 0x0800);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) (20 + transportHeader + payloadBytes));
        frame.putShort((short) 0x1234).putShort((short) 0x4000).put((byte) 64).put((byte) protocol).putShort((short) 0);
        frame.put(new byte[] {10, 0, 0, 1}).put(new byte[] {10, 0, 0, 2});
        frame.putShort((short) 40000).putShort((short) 5001);
        if (protocol == 6) {
            frame.putInt(0x1000_0000).putInt(0).put((byte) 0x50).put((byte) 0x19).putShort((short) 65535)
                .putShort((short) 0).putShort((short) 0);
        } else {
            frame.putShort((short) (8 + payloadBytes)).putShort((short) 0);
        }
        for (int i = 0; i < payloadBytes; i++) {
            frame.put((byte) (i * 13 + 1));
        }
        return frame.array();
    }

    /** @return the folded one's-complement sum of {@code length} bytes from {@code offset} plus {@code initial} */
    public static int sum(final byte[] data, final int offset, final int length, final long initial) {
        return ReferenceChecksum.sum(data, offset, length, initial);
    }

    /** @return true if the IPv4 header checksum of the frame verifies */
    public static boolean ipChecksumValid(final byte[] frame) {
        final int headerBytes = (frame[14] & 0xF) * 4;
        return sum(frame, 14, headerBytes, 0) == 0xFFFF;
    }

    /** @return true if the TCP/UDP checksum of an IPv4 frame verifies over the IP total length */
    public static boolean transportChecksumValid(final byte[] frame) {
        final int headerBytes = (frame[14] & 0xF) * 4;
        final int total = u16(frame, 16);
        final int transportBytes = total - headerBytes;
        final long pseudo = sum(frame, 26, 8, 0) + (frame[23] & 0xFF) + transportBytes;
        return sum(frame, 14 + headerBytes, transportBytes, pseudo) == 0xFFFF;
    }

    /** @return the pseudo-header sum (addresses, protocol, and {@code lengthBytes}) folded, not complemented */
    public static int pseudoHeader(final byte[] frame, final int lengthBytes) {
        return sum(frame, 26, 8, (frame[23] & 0xFF) + (long) lengthBytes);
    }

    /** @return the big-endian u16 at {@code offset} */
    public static int u16(final byte[] data, final int offset) {
        return ((data[offset] & 0xFF) << 8) | (data[offset + 1] & 0xFF);
    }

    /** @return the big-endian u32 at {@code offset} */
    public static int u32(final byte[] data, final int offset) {
        return ByteBuffer.wrap(data, offset, 4).order(ByteOrder.BIG_ENDIAN).getInt();
    }

    /** Stores a big-endian u16. */
    public static void putU16(final byte[] data, final int offset, final int value) {
        data[offset] = (byte) (value >>> 8);
        data[offset + 1] = (byte) value;
    }
}

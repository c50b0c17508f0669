package io.vioplane.platform.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Network byte order (big-endian, RFC 1700 "Data Notations") access to frames in native memory: unsigned
 * 8/16/32-bit fields and 48-bit MAC addresses as {@code long}. Every access is bounds-checked by the segment.
 */
public final class Wire {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** A MAC address's 48 bits. */
    public static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;
    /** ff:ff:ff:ff:ff:ff. */
    public static final long BROADCAST_MAC = MAC_MASK;

    private Wire() {
    }

    public static int u8(final MemorySegment segment, final long offset) {
        return segment.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    public static void u8(final MemorySegment segment, final long offset, final int value) {
        segment.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    public static int u16(final MemorySegment segment, final long offset) {
        return segment.get(U16, offset) & 0xFFFF;
    }

    public static void u16(final MemorySegment segment, final long offset, final int value) {
        segment.set(U16, offset, (short) value);
    }

    public static int u32(final MemorySegment segment, final long offset) {
        return segment.get(U32, offset);
    }

    public static void u32(final MemorySegment segment, final long offset, final int value) {
        segment.set(U32, offset, value);
    }

    public static long mac(final MemorySegment segment, final long offset) {
        return ((segment.get(U32, offset) & 0xFFFF_FFFFL) << 16 | (segment.get(U16, offset + 4) & 0xFFFF)) & MAC_MASK;
    }

    public static void mac(final MemorySegment segment, final long offset, final long mac) {
        segment.set(U32, offset, (int) (mac >>> 16));
        segment.set(U16, offset + 4, (short) mac);
    }

    /** @return true for a group (multicast or broadcast) MAC address: the I/G bit of the first byte (IEEE 802) */
    public static boolean isGroupMac(final long mac) {
        return (mac >>> 40 & 1) != 0;
    }
}

package io.vioplane.e1000;

import io.vioplane.platform.packet.InternetChecksum;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Checksum arithmetic the 82540EM does on frames: inserting an Internet checksum (RFC 1071) over a range into a
 * 16-bit field (SDM 3.3.5, "checksum offloading": CSS start, CSE inclusive end or 0 for the frame's end, CSO
 * field), and the Ethernet FCS (IEEE 802.3 clause 3.2.9, CRC-32, sent least significant byte first) that the
 * receive path stores when RCTL.SECRC is clear. No allocation.
 */
final class FrameChecksums {
    static final ValueLayout.OfShort U16_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int[] CRC_TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int crc = i;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0xEDB88320 : crc >>> 1;
            }
            CRC_TABLE[i] = crc;
        }
    }

    private FrameChecksums() {
    }

    /**
     * Stores the checksum of frame bytes {@code [start, end]} ({@code end} 0: to the frame's end) at {@code field}.
     *
     * @return false if the field or the start lies outside the frame (nothing stored)
     */
    static boolean insert(final MemorySegment frame, final long frameOffset, final int lengthBytes, final int start,
                          final int end, final int field) {
        final int stop = end != 0 && end < lengthBytes ? end + 1 : lengthBytes;
        if (field + 2 > lengthBytes || start >= stop) {
            return false;
        }
        final int checksum = InternetChecksum.finish(InternetChecksum.sum(frame, frameOffset + start, stop - start,
                0));
        frame.set(U16_BE, frameOffset + field, (short) (checksum == 0 ? 0xFFFF : checksum));
        return true;
    }

    /** Adds {@code amount} to the 16-bit one's-complement value at {@code field} (a pseudo-header seed). */
    static void addToField(final MemorySegment frame, final long fieldOffset, final int amount) {
        int sum = (frame.get(U16_BE, fieldOffset) & 0xFFFF) + amount;
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        frame.set(U16_BE, fieldOffset, (short) sum);
    }

    /** @return the Ethernet FCS of {@code lengthBytes} at {@code offset} */
    static int fcs(final MemorySegment data, final long offset, final int lengthBytes) {
        int crc = 0xFFFF_FFFF;
        for (long at = offset, end = offset + lengthBytes; at < end; at++) {
            crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ data.get(ValueLayout.JAVA_BYTE, at)) & 0xFF];
        }
        return ~crc;
    }
}

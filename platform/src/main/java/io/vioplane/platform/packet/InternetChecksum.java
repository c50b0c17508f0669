package io.vioplane.platform.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): the one's-complement sum of 16-bit big-endian words, folded and
 * complemented; used to complete a checksum a guest left to the device (NEEDS_CSUM) and for header rewrites.
 * Sums 8 bytes at a time; no allocation.
 */
public final class InternetChecksum {
    private static final ValueLayout.OfLong U64_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort U16_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private InternetChecksum() {
    }

    /**
     * @return the unfolded one's-complement sum of {@code length} bytes at {@code offset}, added to {@code initial}
     *     (a trailing odd byte counts as the high byte of a word)
     */
    public static long sum(final MemorySegment data, final long offset, final long length, final long initial) {
        long sum = initial;
        long at = offset;
        final long end = offset + length;
        while (end - at >= 8) {
            final long word = data.get(U64_BE, at);
            sum += (word >>> 32) + (word & 0xFFFF_FFFFL);
            at += 8;
        }
        while (end - at >= 2) {
            sum += data.get(U16_BE, at) & 0xFFFF;
            at += 2;
        }
        if (at < end) {
            sum += (data.get(ValueLayout.JAVA_BYTE, at) & 0xFF) << 8;
        }
        return sum;
    }

    /** @return {@code sum} folded to 16 bits (end-around carry), not complemented: a partial checksum */
    public static int fold(final long sum) {
        long folded = sum;
        while ((folded >>> 16) != 0) {
            folded = (folded & 0xFFFF) + (folded >>> 16);
        }
        return (int) folded;
    }

    /** @return {@code sum} folded to 16 bits and complemented: the value to store in a checksum field */
    public static int finish(final long sum) {
        return ~fold(sum) & 0xFFFF;
    }
}

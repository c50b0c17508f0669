package io.vioplane.virtionet.port;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A hash of a frame's flow (IPv4 or IPv6 addresses, and TCP/UDP ports when the frame carries them unfragmented),
 * for spreading a guest's received frames over its receive queues the way a NIC's receive-side scaling does:
 * every frame of one flow gets one queue (so its order holds), different flows spread. Frames that are not IP
 * hash to 0. Reads only the first {@link #HEADER_BYTES} bytes; allocates nothing.
 */
public final class FlowHash {
    /** The bytes of a frame the hash reads: Ethernet, the longest IPv4 header, and the ports. */
    public static final int HEADER_BYTES = 14 + 60 + 4;

    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED
            .withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED
            .withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int TCP = 6;
    private static final int UDP = 17;

    private FlowHash() {
    }

    /**
     * @param frame       the frame's first bytes, from the Ethernet header on
     * @param lengthBytes how many of them are valid (the frame may be shorter than {@link #HEADER_BYTES})
     * @return a non-negative hash of the frame's flow
     */
    public static int of(final MemorySegment frame, final int lengthBytes) {
        final int available = (int) Math.min(lengthBytes, frame.byteSize());
        if (available < 14) {
            return 0;
        }
        final int etherType = frame.get(BE_SHORT, 12) & 0xFFFF;
        int mixed;
        int protocol;
        int transportOffset;
        if (etherType == ETHERTYPE_IPV4 && available >= 34) {
            final int headerBytes = (frame.get(ValueLayout.JAVA_BYTE, 14) & 0x0F) * 4;
            protocol = frame.get(ValueLayout.JAVA_BYTE, 23) & 0xFF;
            mixed = mix(frame.get(BE_INT, 26), frame.get(BE_INT, 30));
            final boolean fragment = (frame.get(BE_SHORT, 20) & 0x3FFF) != 0;
            transportOffset = fragment || headerBytes < 20 ? -1 : 14 + headerBytes;
        } else if (etherType == ETHERTYPE_IPV6 && available >= 54) {
            protocol = frame.get(ValueLayout.JAVA_BYTE, 20) & 0xFF;
            mixed = 0;
            for (int offset = 22; offset < 54; offset += 4) {
                mixed = mix(mixed, frame.get(BE_INT, offset));
            }
            transportOffset = 54;
        } else {
            return 0;
        }
        if ((protocol == TCP || protocol == UDP) && transportOffset > 0 && transportOffset + 4 <= available) {
            mixed = mix(mixed, frame.get(BE_INT, transportOffset));
        }
        return finish(mixed ^ protocol) & Integer.MAX_VALUE;
    }

    private static int mix(final int hash, final int value) {
        return Integer.rotateLeft(hash ^ (value * 0xCC9E2D51), 13) * 5 + 0xE6546B64;
    }

    private static int finish(final int hash) {
        int h = hash;
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        return h ^ (h >>> 16);
    }
}

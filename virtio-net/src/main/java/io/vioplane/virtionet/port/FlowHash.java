package io.vioplane.virtionet.port;

import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Header;
import io.vioplane.platform.packet.Ipv6Header;
import io.vioplane.platform.packet.Wire;

import java.lang.foreign.MemorySegment;

/**
 * A hash of a frame's flow (IPv4 or IPv6 addresses, and TCP/UDP ports when the frame carries them unfragmented),
 * for spreading a guest's received frames over its receive queues the way a NIC's receive-side scaling does:
 * every frame of one flow gets one queue (so its order holds), different flows spread. Frames that are not IP
 * hash to 0. Reads only the first {@link #HEADER_BYTES} bytes; allocates nothing.
 */
public final class FlowHash {
    /** The bytes of a frame the hash reads: Ethernet, the longest IPv4 header, and the ports. */
    public static final int HEADER_BYTES = Ethernet.HEADER_BYTES + 60 + 4;

    private static final int IPV4 = Ethernet.HEADER_BYTES;
    private static final int IPV4_ADDRESSES_END = IPV4 + Ipv4Header.DESTINATION + 4;
    private static final int IPV6 = Ethernet.HEADER_BYTES;
    private static final int IPV6_ADDRESSES = IPV6 + Ipv6Header.SOURCE;
    private static final int IPV6_END = IPV6 + Ipv6Header.HEADER_BYTES;

    private FlowHash() {
    }

    /**
     * @param frame       the frame's first bytes, from the Ethernet header on
     * @param lengthBytes how many of them are valid (the frame may be shorter than {@link #HEADER_BYTES})
     * @return a non-negative hash of the frame's flow
     */
    public static int of(final MemorySegment frame, final int lengthBytes) {
        final int available = (int) Math.min(lengthBytes, frame.byteSize());
        if (available < Ethernet.HEADER_BYTES) {
            return 0;
        }
        final int etherType = Wire.u16(frame, Ethernet.TYPE);
        int mixed;
        int protocol;
        int transportOffset;
        if (etherType == Ethernet.TYPE_IPV4 && available >= IPV4_ADDRESSES_END) {
            final int headerBytes = (Wire.u8(frame, IPV4 + Ipv4Header.VERSION_IHL) & 0x0F) * 4;
            protocol = Wire.u8(frame, IPV4 + Ipv4Header.PROTOCOL);
            mixed = mix(Wire.u32(frame, IPV4 + Ipv4Header.SOURCE), Wire.u32(frame, IPV4 + Ipv4Header.DESTINATION));
            final int flagsFragment = Wire.u16(frame, IPV4 + Ipv4Header.FLAGS_FRAGMENT);
            final boolean fragment = (flagsFragment & (Ipv4Header.FLAG_MORE_FRAGMENTS
                    | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0;
            transportOffset = fragment || headerBytes < Ipv4Header.MIN_BYTES ? -1 : IPV4 + headerBytes;
        } else if (etherType == Ethernet.TYPE_IPV6 && available >= IPV6_END) {
            protocol = Wire.u8(frame, IPV6 + Ipv6Header.NEXT_HEADER);
            mixed = 0;
            for (int offset = IPV6_ADDRESSES; offset < IPV6_END; offset += 4) {
                mixed = mix(mixed, Wire.u32(frame, offset));
            }
            transportOffset = IPV6_END;
        } else {
            return 0;
        }
        if ((protocol == IpProtocol.TCP || protocol == IpProtocol.UDP) && transportOffset > 0
                && transportOffset + 4 <= available) {
            mixed = mix(mixed, Wire.u32(frame, transportOffset));
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

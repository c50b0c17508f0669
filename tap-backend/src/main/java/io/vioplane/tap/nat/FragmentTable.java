package io.vioplane.tap.nat;

/**
 * First-fragment tracking (the approach of RFC 3022 section 6.3 without reassembly): when the first fragment of
 * a datagram (offset 0, MF set) is translated, the datagram's identity (direction, source, destination,
 * protocol, identification; RFC 791 section 3.2) is remembered with its connection, so the fragments after it,
 * which carry no ports, get the same address translation. Fragments that arrive before their first one are
 * dropped (counted by the caller).
 *
 * <p>A small 4-way set-associative table: a full set replaces its oldest datagram; a remembered datagram lives
 * {@code fragmentNs}; a connection freed in between is recognised by its generation. No allocation.
 */
public final class FragmentTable {
    private static final int WAYS = 4;
    private final long[] highs;
    private final long[] lows;
    private final int[] entries;
    private final int[] generations;
    private final long[] createdNs;
    private final int setMask;
    private final long lifetimeNs;
    private final long seed;
    private int foundGeneration;

    /**
     * @param datagrams  datagrams remembered at once (rounded up to a power of two, at least 16)
     * @param lifetimeNs how long a datagram is remembered
     */
    public FragmentTable(final int datagrams, final long lifetimeNs, final long seed) {
        final int slots = Math.max(16, Integer.highestOneBit(Math.max(1, datagrams) * 2 - 1));
        this.highs = new long[slots];
        this.lows = new long[slots];
        this.entries = new int[slots];
        this.generations = new int[slots];
        this.createdNs = new long[slots];
        this.setMask = slots / WAYS - 1;
        this.lifetimeNs = lifetimeNs;
        this.seed = seed;
        java.util.Arrays.fill(entries, -1);
    }

    /** @return the key's high half: source and destination addresses */
    static long high(final int source, final int destination) {
        return (source & 0xFFFF_FFFFL) << 32 | (destination & 0xFFFF_FFFFL);
    }

    /** @return the key's low half: direction, protocol and identification */
    static long low(final boolean fromGuest, final int protocol, final int identification) {
        return (fromGuest ? 1L << 24 : 0) | (long) protocol << 16 | identification;
    }

    private int set(final long high, final long low) {
        long h = (high ^ seed) * 0x9E37_79B9_7F4A_7C15L ^ low * 0xC2B2_AE3D_27D4_EB4FL;
        h ^= h >>> 31;
        return (int) (h & setMask) * WAYS;
    }

    /** Remembers a first fragment's connection. */
    void remember(final long high, final long low, final int entry, final int generation, final long nowNs) {
        final int base = set(high, low);
        int chosen = base;
        for (int way = 0; way < WAYS; way++) {
            final int slot = base + way;
            if (entries[slot] < 0 || highs[slot] == high && lows[slot] == low) {
                chosen = slot;
                break;
            }
            if (createdNs[slot] - createdNs[chosen] < 0) {
                chosen = slot;
            }
        }
        highs[chosen] = high;
        lows[chosen] = low;
        entries[chosen] = entry;
        generations[chosen] = generation;
        createdNs[chosen] = nowNs;
    }

    /** @return the connection remembered for a datagram, or -1 */
    int find(final long high, final long low, final long nowNs) {
        final int base = set(high, low);
        for (int way = 0; way < WAYS; way++) {
            final int slot = base + way;
            if (entries[slot] >= 0 && highs[slot] == high && lows[slot] == low) {
                if (nowNs - createdNs[slot] >= lifetimeNs) {
                    entries[slot] = -1;
                    return -1;
                }
                foundGeneration = generations[slot];
                return entries[slot];
            }
        }
        return -1;
    }

    /** @return the generation the connection had when the datagram found last was remembered */
    int foundGeneration() {
        return foundGeneration;
    }
}

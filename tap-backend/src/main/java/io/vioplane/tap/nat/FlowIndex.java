package io.vioplane.tap.nat;

import java.util.Arrays;

/**
 * A fixed hash index from a key of two {@code long}s to an {@code int}: open addressing with linear probing, at
 * most half full, deletion by backward shift (Knuth, TAOCP vol. 3, 6.4 Algorithm R) so no tombstones
 * accumulate. Sized once for a maximum number of keys and never grows; the hash is keyed with a random seed so
 * that a guest choosing ports and addresses cannot aim for collisions. No allocation after construction.
 */
public final class FlowIndex {
    private static final int EMPTY = -1;
    private final long[] highs;
    private final long[] lows;
    private final int[] values;
    private final int mask;
    private final long seed;
    private final int maxKeys;
    private int size;

    /**
     * @param maxKeys the most keys held at once
     * @param seed    keys the hash
     */
    FlowIndex(final int maxKeys, final long seed) {
        final int slots = Math.max(16, Integer.highestOneBit(Math.max(1, maxKeys) * 2 - 1) << 1);
        this.highs = new long[slots];
        this.lows = new long[slots];
        this.values = new int[slots];
        this.mask = slots - 1;
        this.seed = seed;
        this.maxKeys = maxKeys;
        Arrays.fill(values, EMPTY);
    }

    private int home(final long high, final long low) {
        long h = (high ^ seed) * 0x9E37_79B9_7F4A_7C15L;
        h ^= Long.rotateLeft(low * 0xC2B2_AE3D_27D4_EB4FL, 31);
        h ^= h >>> 32;
        h *= 0xD6E8_FEB8_6659_FD93L;
        h ^= h >>> 29;
        return (int) h & mask;
    }

    /** @return the value under the key, or -1 */
    int get(final long high, final long low) {
        int slot = home(high, low);
        while (values[slot] != EMPTY) {
            if (highs[slot] == high && lows[slot] == low) {
                return values[slot];
            }
            slot = (slot + 1) & mask;
        }
        return EMPTY;
    }

    /**
     * Adds a key that is not present.
     *
     * @throws IllegalStateException if the index holds its maximum already (a bug in the caller's bounds)
     */
    void put(final long high, final long low, final int value) {
        if (size == maxKeys) {
            throw new IllegalStateException("flow index full: " + maxKeys);
        }
        int slot = home(high, low);
        while (values[slot] != EMPTY) {
            slot = (slot + 1) & mask;
        }
        highs[slot] = high;
        lows[slot] = low;
        values[slot] = value;
        size++;
    }

    /** @return true if the key was present and is removed */
    boolean remove(final long high, final long low) {
        int slot = home(high, low);
        while (values[slot] != EMPTY) {
            if (highs[slot] == high && lows[slot] == low) {
                shiftBack(slot);
                size--;
                return true;
            }
            slot = (slot + 1) & mask;
        }
        return false;
    }

    private void shiftBack(final int removed) {
        int hole = removed;
        int next = removed;
        values[hole] = EMPTY;
        while (true) {
            next = (next + 1) & mask;
            if (values[next] == EMPTY) {
                return;
            }
            final int wanted = home(highs[next], lows[next]);
            final boolean stays = hole <= next ? hole < wanted && wanted <= next : hole < wanted || wanted <= next;
            if (!stays) {
                highs[hole] = highs[next];
                lows[hole] = lows[next];
                values[hole] = values[next];
                values[next] = EMPTY;
                hole = next;
            }
        }
    }

    /** @return keys held */
    int size() {
        return size;
    }
}

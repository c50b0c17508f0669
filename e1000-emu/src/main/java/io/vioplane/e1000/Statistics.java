package io.vioplane.e1000;

import static io.vioplane.e1000.E1000Registers.*;

/**
 * The statistics registers 0x4000-0x40FC (SDM 13.7), as the hardware counts them: 32-bit counters that stick at
 * their maximum, 64-bit octet counters split low/high, every one cleared when read (a 64-bit pair when its high
 * half is read, the low half being read first). Frame sizes include the 4-byte FCS, as on the wire.
 */
final class Statistics {
    private static final int[] RX_SIZE_BUCKETS = {PRC64, PRC127, PRC255, PRC511, PRC1023, PRC1522};
    private static final int[] TX_SIZE_BUCKETS = {PTC64, PTC127, PTC255, PTC511, PTC1023, PTC1522};

    private final int[] values;

    Statistics(final int[] values) {
        this.values = values;
    }

    /** Adds one to the 32-bit counter at {@code offset}, sticking at 0xFFFFFFFF. */
    void increment(final int offset) {
        final int index = offset >>> 2;
        if (values[index] != -1) {
            values[index]++;
        }
    }

    /** Adds {@code amount} to the 64-bit counter whose low half is at {@code lowOffset}, sticking at the maximum. */
    void add64(final int lowOffset, final long amount) {
        final int low = lowOffset >>> 2;
        final long value = (values[low] & 0xFFFF_FFFFL) | ((long) values[low + 1] << 32);
        final long sum = value + amount;
        final long result = Long.compareUnsigned(sum, value) < 0 ? -1L : sum;
        values[low] = (int) result;
        values[low + 1] = (int) (result >>> 32);
    }

    /** Counts a received good frame of {@code wireBytes} (FCS included) sent to {@code destination}'s class. */
    void received(final int wireBytes, final boolean broadcast, final boolean multicast) {
        increment(GPRC);
        increment(TPR);
        add64(GORCL, wireBytes);
        add64(TORL, wireBytes);
        increment(RX_SIZE_BUCKETS[bucket(wireBytes)]);
        if (broadcast) {
            increment(BPRC);
        } else if (multicast) {
            increment(MPRC);
        }
    }

    /** Counts a transmitted frame of {@code wireBytes} (FCS included). */
    void transmitted(final int wireBytes, final boolean broadcast, final boolean multicast) {
        increment(GPTC);
        increment(TPT);
        add64(GOTCL, wireBytes);
        add64(TOTL, wireBytes);
        increment(TX_SIZE_BUCKETS[bucket(wireBytes)]);
        if (broadcast) {
            increment(BPTC);
        } else if (multicast) {
            increment(MPTC);
        }
    }

    private static int bucket(final int wireBytes) {
        if (wireBytes <= 64) {
            return 0;
        } else if (wireBytes <= 127) {
            return 1;
        } else if (wireBytes <= 255) {
            return 2;
        } else if (wireBytes <= 511) {
            return 3;
        } else if (wireBytes <= 1023) {
            return 4;
        }
        return 5;
    }

    /** @return true if {@code offset} is the high half of a 64-bit counter */
    static boolean isHighHalf(final int offset) {
        return offset == GORCH || offset == GOTCH || offset == TORH || offset == TOTH;
    }

    /** @return true if {@code offset} is the low half of a 64-bit counter */
    static boolean isLowHalf(final int offset) {
        return offset == GORCL || offset == GOTCL || offset == TORL || offset == TOTL;
    }

    /** Read handler: the value, then cleared (a high half clears its pair). */
    int readAndClear(final int index) {
        final int value = values[index];
        values[index] = 0;
        if (isHighHalf(index << 2)) {
            values[index - 1] = 0;
        }
        return value;
    }
}

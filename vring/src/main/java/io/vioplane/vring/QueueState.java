package io.vioplane.vring;

/**
 * Where a device stands in a queue, saved when the queue stops and restored when it starts again
 * (vhost-user GET_VRING_BASE / SET_VRING_BASE, live migration).
 *
 * <p>Split rings use only the indices (free-running u16). Packed rings use ring positions (0 .. size-1)
 * with their wrap counters.
 *
 * @param nextAvailIndex   the next available entry the device will read
 * @param availWrapCounter the driver wrap counter expected at that position (packed; true for split)
 * @param nextUsedIndex    the next used entry the device will write
 * @param usedWrapCounter  the device wrap counter at that position (packed; true for split)
 */
public record QueueState(int nextAvailIndex, boolean availWrapCounter, int nextUsedIndex, boolean usedWrapCounter) {
    /** The state of a fresh queue. */
    public static final QueueState INITIAL = new QueueState(0, true, 0, true);

    /** @return a split-ring state at avail index {@code nextAvail} and used index {@code nextUsed} */
    public static QueueState split(final int nextAvail, final int nextUsed) {
        return new QueueState(nextAvail & 0xFFFF, true, nextUsed & 0xFFFF, true);
    }

    /**
     * Encodes a packed state as vhost-user's 32-bit vring base: bits 0-14 avail index, bit 15 avail wrap
     * counter, bits 16-30 used index, bit 31 used wrap counter.
     */
    public int packedVringBase() {
        return (nextAvailIndex & 0x7FFF) | (availWrapCounter ? 1 << 15 : 0)
                | (nextUsedIndex & 0x7FFF) << 16 | (usedWrapCounter ? 1 << 31 : 0);
    }

    /** @return the packed state encoded in vhost-user's 32-bit vring base */
    public static QueueState fromPackedVringBase(final int base) {
        return new QueueState(base & 0x7FFF, (base & (1 << 15)) != 0, (base >>> 16) & 0x7FFF, (base & (1 << 31)) != 0);
    }
}

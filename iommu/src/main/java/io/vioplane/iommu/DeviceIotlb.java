package io.vioplane.iommu;

import io.vioplane.platform.runtime.CounterSet;

/**
 * A device-side IOTLB (PCIe ATS "address translation cache"; vhost's device IOTLB, QEMU
 * docs/interop/vhost-user.rst "IOMMU support"): translations of iova ranges to guest-physical ranges with read and
 * write permissions, which the IOMMU hands the device (UPDATE) and takes back (INVALIDATE). The device asks for what
 * it lacks ({@link DeviceIotlbDmaSpace} sends the misses).
 *
 * <p>Entries never overlap: an update overlapping an entry that translates differently is refused; an invalidation
 * removes every entry it touches, whole. Ranges are inclusive of their last byte, so a range may end at 2^64 - 1;
 * ranges that wrap, have no bytes or no permission are refused. Every refusal is counted
 * ({@link DeviceIotlbCounter}). The table holds at most {@link #capacity()} entries: past that, the oldest slot is
 * evicted (counted) and a later miss brings it back.
 *
 * <p>Sorted arrays, searched by binary search; one thread only (the device's data-plane thread, which also applies
 * updates and invalidations as commands between duty cycles, so that an invalidation is complete, for every queue of
 * the device, when the command returns). {@link #removals()} moves whenever an entry goes: caches over the table
 * ({@link DeviceIotlbDmaSpace}) flush then.
 */
public final class DeviceIotlb {
    /** Default bound on the entries held. */
    public static final int DEFAULT_CAPACITY = 8192;

    /** What an {@link #update} or {@link #invalidate} did. */
    public enum Outcome {
        /** The translation was added (or, for an invalidation, applied). */
        APPLIED,
        /** An update repeated an existing entry exactly: nothing changed. */
        DUPLICATE,
        /** Refused: the range has no bytes. */
        ZERO_SIZE,
        /** Refused: the range (iova or target) wraps the 64-bit address space. */
        WRAPS,
        /** Refused: an update without read or write permission, or with unknown permission bits. */
        NO_PERMISSIONS,
        /** Refused: an update overlapping an entry that translates differently. */
        OVERLAP
    }

    private final int capacity;
    private final long[] firstIova;
    private final long[] lastIova;
    private final long[] firstGpa;
    private final int[] permissions;
    private final CounterSet<DeviceIotlbCounter> counters;
    private int count;
    private int evictCursor;
    private long removals;
    private long additions;

    /** @param counters where updates, invalidations and refusals are counted */
    public DeviceIotlb(final CounterSet<DeviceIotlbCounter> counters) {
        this(DEFAULT_CAPACITY, counters);
    }

    /**
     * @param capacity the most entries held
     * @param counters where updates, invalidations and refusals are counted
     */
    public DeviceIotlb(final int capacity, final CounterSet<DeviceIotlbCounter> counters) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a device IOTLB needs room for one entry: " + capacity);
        }
        this.capacity = capacity;
        this.firstIova = new long[capacity];
        this.lastIova = new long[capacity];
        this.firstGpa = new long[capacity];
        this.permissions = new int[capacity];
        this.counters = counters;
    }

    /**
     * @param sizeBytes unsigned
     * @return {@link Outcome#ZERO_SIZE} or {@link Outcome#WRAPS} if {@code [address, address + sizeBytes)} has no
     *     bytes or wraps the 64-bit address space, else {@link Outcome#APPLIED}
     */
    public static Outcome checkRange(final long address, final long sizeBytes) {
        if (sizeBytes == 0) {
            return Outcome.ZERO_SIZE;
        }
        if (Long.compareUnsigned(address + (sizeBytes - 1), address) < 0) {
            return Outcome.WRAPS;
        }
        return Outcome.APPLIED;
    }

    /**
     * What {@link #update} would do with this translation, without doing it or counting anything: lets a caller
     * that adds several pieces of one message check them all first, so that the message is applied whole or not at
     * all.
     *
     * @param sizeBytes   unsigned
     * @param permission  {@link IotlbEntry#READ} | {@link IotlbEntry#WRITE}, not 0
     * @return {@link Outcome#APPLIED} (it would be added), {@link Outcome#DUPLICATE}, or the refusal
     */
    public Outcome check(final long iova, final long sizeBytes, final long gpa, final int permission) {
        Outcome outcome = checkRange(iova, sizeBytes);
        if (outcome == Outcome.APPLIED) {
            outcome = checkRange(gpa, sizeBytes);
        }
        if (outcome == Outcome.APPLIED && (permission == 0 || (permission & ~(IotlbEntry.READ | IotlbEntry.WRITE)) != 0)) {
            outcome = Outcome.NO_PERMISSIONS;
        }
        if (outcome != Outcome.APPLIED) {
            return outcome;
        }
        final long last = iova + (sizeBytes - 1);
        final int at = insertionPoint(iova);
        if (at < count && firstIova[at] == iova && lastIova[at] == last && firstGpa[at] == gpa
                && permissions[at] == permission) {
            return Outcome.DUPLICATE;
        }
        if (at > 0 && Long.compareUnsigned(lastIova[at - 1], iova) >= 0
                || at < count && Long.compareUnsigned(firstIova[at], last) <= 0) {
            return Outcome.OVERLAP;
        }
        return Outcome.APPLIED;
    }

    /**
     * Adds the translation of {@code [iova, iova + sizeBytes)} to {@code [gpa, gpa + sizeBytes)}.
     *
     * @param sizeBytes   unsigned
     * @param permission  {@link IotlbEntry#READ} | {@link IotlbEntry#WRITE}, not 0
     * @return {@link Outcome#APPLIED} or {@link Outcome#DUPLICATE}; anything else is a counted refusal
     */
    public Outcome update(final long iova, final long sizeBytes, final long gpa, final int permission) {
        final Outcome outcome = check(iova, sizeBytes, gpa, permission);
        if (outcome == Outcome.DUPLICATE) {
            counters.increment(DeviceIotlbCounter.DUPLICATE_UPDATES);
            return outcome;
        }
        if (outcome != Outcome.APPLIED) {
            return refused(outcome);
        }
        final long last = iova + (sizeBytes - 1);
        final int at = insertionPoint(iova);
        int slot = at;
        if (count == capacity) {
            final int victim = evictCursor++ % count;
            remove(victim, 1);
            counters.increment(DeviceIotlbCounter.EVICTIONS);
            if (victim < slot) {
                slot--;
            }
        }
        System.arraycopy(firstIova, slot, firstIova, slot + 1, count - slot);
        System.arraycopy(lastIova, slot, lastIova, slot + 1, count - slot);
        System.arraycopy(firstGpa, slot, firstGpa, slot + 1, count - slot);
        System.arraycopy(permissions, slot, permissions, slot + 1, count - slot);
        firstIova[slot] = iova;
        lastIova[slot] = last;
        firstGpa[slot] = gpa;
        permissions[slot] = permission;
        count++;
        additions++;
        counters.increment(DeviceIotlbCounter.UPDATES);
        return Outcome.APPLIED;
    }

    /**
     * Removes every entry that overlaps {@code [iova, iova + sizeBytes)}, whole.
     *
     * @return {@link Outcome#APPLIED} (also when nothing overlapped), or a counted refusal (zero size, wraps)
     */
    public Outcome invalidate(final long iova, final long sizeBytes) {
        final Outcome outcome = checkRange(iova, sizeBytes);
        if (outcome != Outcome.APPLIED) {
            return refused(outcome);
        }
        final long last = iova + (sizeBytes - 1);
        int from = insertionPoint(iova);
        if (from > 0 && Long.compareUnsigned(lastIova[from - 1], iova) >= 0) {
            from--;
        }
        int to = from;
        while (to < count && Long.compareUnsigned(firstIova[to], last) <= 0) {
            to++;
        }
        if (to > from) {
            remove(from, to - from);
            counters.add(DeviceIotlbCounter.ENTRIES_INVALIDATED, to - from);
        }
        counters.increment(DeviceIotlbCounter.INVALIDATIONS);
        return Outcome.APPLIED;
    }

    /** Removes every entry (the front-end went away, or the device was reset). */
    public void clear() {
        if (count > 0) {
            count = 0;
            removals++;
        }
    }

    private Outcome refused(final Outcome outcome) {
        counters.increment(switch (outcome) {
            case ZERO_SIZE -> DeviceIotlbCounter.REFUSED_ZERO_SIZE;
            case WRAPS -> DeviceIotlbCounter.REFUSED_WRAPS;
            case NO_PERMISSIONS -> DeviceIotlbCounter.REFUSED_PERMISSIONS;
            case OVERLAP -> DeviceIotlbCounter.REFUSED_OVERLAP;
            case APPLIED, DUPLICATE -> throw new IllegalArgumentException(outcome + " is not a refusal");
        });
        return outcome;
    }

    private void remove(final int from, final int length) {
        final int tail = count - from - length;
        System.arraycopy(firstIova, from + length, firstIova, from, tail);
        System.arraycopy(lastIova, from + length, lastIova, from, tail);
        System.arraycopy(firstGpa, from + length, firstGpa, from, tail);
        System.arraycopy(permissions, from + length, permissions, from, tail);
        count -= length;
        removals++;
    }

    /** @return the number of entries whose first iova is below {@code iova} (unsigned) */
    private int insertionPoint(final long iova) {
        int low = 0;
        int high = count;
        while (low < high) {
            final int middle = (low + high) >>> 1;
            if (Long.compareUnsigned(firstIova[middle], iova) < 0) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        return low;
    }

    /** @return the index of the entry containing {@code iova}, or -1 */
    public int indexOf(final long iova) {
        int at = insertionPoint(iova);
        if (at < count && firstIova[at] == iova) {
            return at;
        }
        at--;
        return at >= 0 && Long.compareUnsigned(iova, lastIova[at]) <= 0 ? at : -1;
    }

    /** @return entry {@code index}'s first iova */
    public long firstIova(final int index) {
        return firstIova[checked(index)];
    }

    /** @return entry {@code index}'s last iova (inclusive) */
    public long lastIova(final int index) {
        return lastIova[checked(index)];
    }

    /** @return the gpa entry {@code index}'s first iova maps to */
    public long firstGpa(final int index) {
        return firstGpa[checked(index)];
    }

    /** @return entry {@code index}'s permissions, {@link IotlbEntry#READ} | {@link IotlbEntry#WRITE} */
    public int permissions(final int index) {
        return permissions[checked(index)];
    }

    private int checked(final int index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("entry " + index + " of " + count);
        }
        return index;
    }

    /** @return the entries held */
    public int size() {
        return count;
    }

    /** @return the most entries held */
    public int capacity() {
        return capacity;
    }

    /** @return a count that moves whenever an entry is removed (invalidated, evicted, cleared): caches flush then */
    public long removals() {
        return removals;
    }

    /** @return a count that moves whenever an entry is added: outstanding misses may have been answered */
    public long additions() {
        return additions;
    }

    /** @return the counters */
    public CounterSet<DeviceIotlbCounter> counters() {
        return counters;
    }

    @Override
    public String toString() {
        return "DeviceIotlb[" + count + " entries]";
    }
}

package io.vioplane.vmx.machine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An address space devices claim ranges of: the MMIO bus (guest-physical addresses no memslot backs) or the
 * port-I/O bus. Ranges are registered while the machine is being built; {@link #seal()} sorts them and refuses
 * an overlap with an error naming both devices. Afterwards lookups are a binary search with no allocation.
 */
public final class Bus {
    private final String name;
    private final List<Entry> pending = new ArrayList<>();
    private long[] starts = new long[0];
    private long[] ends = new long[0];
    private BusDevice[] devices = new BusDevice[0];
    private boolean sealed;

    private record Entry(AddressRange range, BusDevice device) {
    }

    /** @param name "MMIO" or "port I/O", for error messages */
    public Bus(final String name) {
        this.name = name;
    }

    /** Claims {@code range} for {@code device}; before {@link #seal()}. */
    public synchronized void register(final AddressRange range, final BusDevice device) {
        if (sealed) {
            throw new IllegalStateException(name + " bus is sealed: cannot add " + range);
        }
        pending.add(new Entry(range, device));
    }

    /**
     * Sorts the ranges and checks them. Idempotent.
     *
     * @throws IllegalStateException naming both ranges when two overlap
     */
    public synchronized void seal() {
        if (sealed) {
            return;
        }
        pending.sort(Comparator.comparing(entry -> entry.range().start(), Long::compareUnsigned));
        for (int i = 1; i < pending.size(); i++) {
            final AddressRange previous = pending.get(i - 1).range();
            final AddressRange current = pending.get(i).range();
            if (previous.overlaps(current)) {
                throw new IllegalStateException(name + " ranges overlap: " + previous + " and " + current);
            }
        }
        starts = new long[pending.size()];
        ends = new long[pending.size()];
        devices = new BusDevice[pending.size()];
        for (int i = 0; i < pending.size(); i++) {
            starts[i] = pending.get(i).range().start();
            ends[i] = pending.get(i).range().end();
            devices[i] = pending.get(i).device();
        }
        sealed = true;
    }

    /** @return the ranges registered so far */
    public synchronized List<AddressRange> ranges() {
        return pending.stream().map(Entry::range).toList();
    }

    /** @return the index of the range containing {@code address}, or -1 */
    public int find(final long address) {
        int low = 0;
        int high = starts.length - 1;
        while (low <= high) {
            final int mid = (low + high) >>> 1;
            if (Long.compareUnsigned(starts[mid], address) <= 0) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return high >= 0 && Long.compareUnsigned(address, ends[high] - 1) <= 0 ? high : -1;
    }

    /** @return whether an access of {@code sizeBytes} at {@code address} lies wholly in range {@code index} */
    public boolean contains(final int index, final long address, final int sizeBytes) {
        return Long.compareUnsigned(address + sizeBytes - 1, ends[index] - 1) <= 0;
    }

    /** @return the device of range {@code index} */
    public BusDevice device(final int index) {
        return devices[index];
    }

    /** @return the start of range {@code index} */
    public long start(final int index) {
        return starts[index];
    }
}

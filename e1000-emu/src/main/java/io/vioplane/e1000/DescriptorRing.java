package io.vioplane.e1000;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.runtime.CounterSet;

import java.lang.foreign.MemorySegment;

import static io.vioplane.e1000.E1000Registers.DESCRIPTOR_BYTES;

/**
 * One descriptor ring (transmit, SDM 3.4; receive, SDM 3.2.6) as the guest last configured it: base from
 * xDBAL/xDBAH (16-byte aligned, low 4 bits ignored), length from xDLEN (a multiple of 128 bytes), head and tail
 * indices. {@link #map} validates the whole ring against guest memory once per batch and resolves it into one
 * segment, so that descriptor accesses are bounds-checked slices of that segment and never leave the ring.
 *
 * <pre>
 *   descriptor i at base + 16 i, 0 &lt;= i &lt; count = xDLEN / 16
 *   head == tail: empty (hardware owns nothing); the guest advances tail, the device advances head
 * </pre>
 */
final class DescriptorRing {
    private final DmaSpace dma;
    private final CounterSet<E1000Counter> counters;
    private final DmaRange range = new DmaRange();
    private int count;

    DescriptorRing(final DmaSpace dma, final CounterSet<E1000Counter> counters) {
        this.dma = dma;
        this.counters = counters;
    }

    /**
     * Validates and resolves the ring and its indices.
     *
     * @return false (counted) if the ring is empty-sized, outside guest memory, or an index is beyond it
     */
    boolean map(final int baseLow, final int baseHigh, final int lengthBytes, final int head, final int tail) {
        final long baseGpa = ((long) baseHigh << 32) | (baseLow & 0xFFFF_FFF0L);
        count = lengthBytes / DESCRIPTOR_BYTES;
        if (count == 0) {
            return false;
        }
        if (!dma.resolve(baseGpa, lengthBytes, AccessMode.READ_WRITE, range)) {
            counters.increment(E1000Counter.RING_OUTSIDE_MEMORY);
            return false;
        }
        if (Integer.compareUnsigned(tail, count) >= 0) {
            counters.increment(E1000Counter.TAIL_BEYOND_RING);
            return false;
        }
        if (Integer.compareUnsigned(head, count) >= 0) {
            counters.increment(E1000Counter.HEAD_BEYOND_RING);
            return false;
        }
        return true;
    }

    /** @return descriptors in the ring */
    int count() {
        return count;
    }

    /** @return the segment holding the ring */
    MemorySegment segment() {
        return range.segment();
    }

    /** @return the offset of descriptor {@code index} in {@link #segment()} */
    long offset(final int index) {
        return range.offset() + (long) index * DESCRIPTOR_BYTES;
    }

    /** @return {@code index + 1}, wrapping at the ring's end */
    int next(final int index) {
        final int next = index + 1;
        return next == count ? 0 : next;
    }

    /** @return descriptors from {@code head} up to (not including) {@code tail} */
    int distance(final int head, final int tail) {
        final int difference = tail - head;
        return difference >= 0 ? difference : difference + count;
    }
}

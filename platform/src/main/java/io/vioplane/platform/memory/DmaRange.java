package io.vioplane.platform.memory;

import java.lang.foreign.MemorySegment;

/**
 * Where a resolved DMA range lives on the host: a segment that contains it (typically a whole guest-memory
 * region) and the offset of its first byte there. A mutable holder that {@link DmaSpace#resolve} fills in,
 * so that the data path resolves descriptors without allocating a slice per buffer. Every access through
 * {@link #segment()} is still bounds-checked by the JVM against that segment.
 */
public final class DmaRange {
    private MemorySegment segment;
    private long offset;

    /** @return the segment holding the range */
    public MemorySegment segment() {
        return segment;
    }

    /** @return the offset of the range's first byte in {@link #segment()} */
    public long offset() {
        return offset;
    }

    /** Records a resolution. */
    public void set(final MemorySegment segment, final long offset) {
        this.segment = segment;
        this.offset = offset;
    }
}

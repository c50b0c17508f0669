package io.vioplane.platform.memory;

import java.lang.foreign.MemorySegment;

/**
 * The address space a device does DMA in: guest-physical addresses directly ({@link GuestMemory}), or I/O
 * virtual addresses translated by an IOMMU that decorates guest memory (VT-d 3.x chapter 3). Devices see
 * only this interface, so they never know whether an IOMMU is there.
 */
public interface DmaSpace {
    /**
     * Translates the range {@code [address, address + lengthBytes)} to a segment of exactly
     * {@code lengthBytes}.
     *
     * @param address     the first address in this space (gpa or iova)
     * @param lengthBytes the range's length; 0 yields an empty segment if {@code address} is mapped
     * @param mode        what the device will do with the range
     * @return a slice through which the device accesses exactly the range
     * @throws MemoryAccessException if the range is not wholly mapped in one piece, wraps, or the access is
     *     not permitted
     */
    MemorySegment translate(long address, long lengthBytes, AccessMode mode);

    /**
     * Resolves the range {@code [address, address + lengthBytes)} without allocating and without throwing:
     * the data path's form of {@link #translate}.
     *
     * @param out receives the segment holding the range and the range's offset in it
     * @return false if the range is not wholly mapped in one piece, wraps, or the access is not permitted
     *     ({@link #translate} then says why)
     */
    boolean resolve(long address, long lengthBytes, AccessMode mode, DmaRange out);
}

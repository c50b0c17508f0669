package io.vioplane.platform.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The address space a device does DMA in: guest-physical addresses directly ({@link GuestMemory}), or I/O
 * virtual addresses translated by an IOMMU that decorates guest memory (VT-d 3.x chapter 3). Devices see
 * only this interface, so they never know whether an IOMMU is there.
 *
 * <p>An implementation provides {@link #translate} and {@link #resolve}; the typed accessors (little-endian, as
 * virtio structures are: virtio 1.2 section 1.4) are defaults built on {@link #translate}, so a decorator inherits
 * them with its own translation and permission checks. Each accessor reads or writes guest memory exactly once; a
 * caller that reads a guest field checks the value it got, never reads it again. They are for control paths and
 * tests: the data path resolves a range once ({@link #resolve}) and works on the segment.
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

    /**
     * Resolves the longest leading part of {@code [address, address + lengthBytes)} that lies in one piece on the
     * host: a range an IOMMU maps to scattered guest pages is taken piece by piece (each piece then becomes its own
     * buffer segment). Without allocating and without throwing.
     *
     * @param out receives the segment holding the piece and the piece's offset in it
     * @return the piece's length (1..lengthBytes), or 0 if nothing could be resolved ({@link #refusal()} says why)
     */
    default long resolvePiece(final long address, final long lengthBytes, final AccessMode mode, final DmaRange out) {
        return resolve(address, lengthBytes, mode, out) ? lengthBytes : 0;
    }

    /**
     * Says why the most recent {@link #resolve} or {@link #resolvePiece} on this space refused: the data path asks
     * right after a refusal, on the same thread. A guest-physical space answers {@code OUT_OF_RANGE}; an IOMMU may
     * answer {@code DENIED} (the mapping lacks the permission: that request fails, the queue goes on) or
     * {@code TRANSLATION_PENDING} (a miss it has asked the IOMMU about: retry the same request later).
     */
    default MemoryAccessException.Reason refusal() {
        return MemoryAccessException.Reason.OUT_OF_RANGE;
    }

    /** @return the byte at {@code address} */
    default byte getByte(final long address) {
        return translate(address, 1, AccessMode.READ).get(ValueLayout.JAVA_BYTE, 0);
    }

    /** Writes one byte at {@code address}. */
    default void putByte(final long address, final byte value) {
        translate(address, 1, AccessMode.WRITE).set(ValueLayout.JAVA_BYTE, 0, value);
    }

    /** @return the le16 at {@code address}, any alignment */
    default short getShort(final long address) {
        return translate(address, 2, AccessMode.READ).get(LittleEndian.U16, 0);
    }

    /** Writes a le16 at {@code address}, any alignment. */
    default void putShort(final long address, final short value) {
        translate(address, 2, AccessMode.WRITE).set(LittleEndian.U16, 0, value);
    }

    /** @return the le32 at {@code address}, any alignment */
    default int getInt(final long address) {
        return translate(address, 4, AccessMode.READ).get(LittleEndian.U32, 0);
    }

    /** Writes a le32 at {@code address}, any alignment. */
    default void putInt(final long address, final int value) {
        translate(address, 4, AccessMode.WRITE).set(LittleEndian.U32, 0, value);
    }

    /** @return the le64 at {@code address}, any alignment */
    default long getLong(final long address) {
        return translate(address, 8, AccessMode.READ).get(LittleEndian.U64, 0);
    }

    /** Writes a le64 at {@code address}, any alignment. */
    default void putLong(final long address, final long value) {
        translate(address, 8, AccessMode.WRITE).set(LittleEndian.U64, 0, value);
    }

    /** @return the le16 at 2-byte aligned {@code address}, with acquire ordering */
    default short getShortAcquire(final long address) {
        return (short) LittleEndian.U16_ATOMIC.getAcquire(aligned(address, 2, AccessMode.READ), 0L);
    }

    /** Writes a le16 at 2-byte aligned {@code address} with release ordering. */
    default void putShortRelease(final long address, final short value) {
        LittleEndian.U16_ATOMIC.setRelease(aligned(address, 2, AccessMode.WRITE), 0L, value);
    }

    /** @return the le32 at 4-byte aligned {@code address}, with acquire ordering */
    default int getIntAcquire(final long address) {
        return (int) LittleEndian.U32_ATOMIC.getAcquire(aligned(address, 4, AccessMode.READ), 0L);
    }

    /** Writes a le32 at 4-byte aligned {@code address} with release ordering. */
    default void putIntRelease(final long address, final int value) {
        LittleEndian.U32_ATOMIC.setRelease(aligned(address, 4, AccessMode.WRITE), 0L, value);
    }

    /** @return the le64 at 8-byte aligned {@code address}, with acquire ordering */
    default long getLongAcquire(final long address) {
        return (long) LittleEndian.U64_ATOMIC.getAcquire(aligned(address, 8, AccessMode.READ), 0L);
    }

    /** Writes a le64 at 8-byte aligned {@code address} with release ordering. */
    default void putLongRelease(final long address, final long value) {
        LittleEndian.U64_ATOMIC.setRelease(aligned(address, 8, AccessMode.WRITE), 0L, value);
    }

    /**
     * Copies {@code destination.byteSize()} bytes from {@code address}. This default needs the range mapped in one
     * piece; {@link GuestMemory} also copies across adjacent regions.
     *
     * @throws MemoryAccessException if the range is not mapped, wraps, or may not be read
     */
    default void read(final long address, final MemorySegment destination) {
        MemorySegment.copy(translate(address, destination.byteSize(), AccessMode.READ), 0, destination, 0,
                destination.byteSize());
    }

    /**
     * Copies {@code source} to {@code address}. This default needs the range mapped in one piece;
     * {@link GuestMemory} also copies across adjacent regions.
     *
     * @throws MemoryAccessException if the range is not mapped, wraps, or may not be written
     */
    default void write(final long address, final MemorySegment source) {
        MemorySegment.copy(source, 0, translate(address, source.byteSize(), AccessMode.WRITE), 0, source.byteSize());
    }

    /** @return {@code lengthBytes} bytes copied from {@code address} (for tests and control paths) */
    default byte[] readBytes(final long address, final int lengthBytes) {
        final byte[] bytes = new byte[lengthBytes];
        read(address, MemorySegment.ofArray(bytes));
        return bytes;
    }

    /** Copies {@code bytes} to {@code address} (for tests and control paths). */
    default void writeBytes(final long address, final byte[] bytes) {
        write(address, MemorySegment.ofArray(bytes));
    }

    private MemorySegment aligned(final long address, final int sizeBytes, final AccessMode mode) {
        if ((address & (sizeBytes - 1)) != 0) {
            throw new MemoryAccessException(MemoryAccessException.Reason.MISALIGNED, address, sizeBytes, "");
        }
        return translate(address, sizeBytes, mode);
    }
}

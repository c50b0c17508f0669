package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A reusable native array of {@code struct iovec} for {@link FileIo#readv} and {@link FileIo#writev}
 * (readv(2)).
 *
 * <pre>
 *   struct iovec {           offset
 *       void  *iov_base;     0
 *       size_t iov_len;      8
 *   };                       16 bytes
 * </pre>
 *
 * The segments placed in it must stay alive until the call returns; the array keeps only their addresses.
 * Not thread-safe: one owner thread.
 */
public final class IoVecArray {
    /** Bytes per iovec entry. */
    public static final int ENTRY_BYTES = 16;
    /** The kernel's limit on entries per call (UIO_MAXIOV). */
    public static final int MAX_ENTRIES = 1024;

    private final MemorySegment entries;
    private final int capacity;

    /**
     * @param arena    where the array lives
     * @param capacity entries, at most {@link #MAX_ENTRIES}
     */
    public IoVecArray(final Arena arena, final int capacity) {
        if (capacity < 1 || capacity > MAX_ENTRIES) {
            throw new IllegalArgumentException("iovec capacity must be 1.." + MAX_ENTRIES + ": " + capacity);
        }
        this.capacity = capacity;
        this.entries = arena.allocate((long) capacity * ENTRY_BYTES, 16);
    }

    /** @return how many entries the array holds */
    public int capacity() {
        return capacity;
    }

    /**
     * Points entry {@code index} at {@code buffer} (a native segment).
     *
     * @return this
     */
    public IoVecArray set(final int index, final MemorySegment buffer) {
        if (!buffer.isNative()) {
            throw new IllegalArgumentException("iovec buffers must be native segments");
        }
        Objects.checkIndex(index, capacity);
        entries.set(JAVA_LONG, (long) index * ENTRY_BYTES, buffer.address());
        entries.set(JAVA_LONG, (long) index * ENTRY_BYTES + 8, buffer.byteSize());
        return this;
    }

    /**
     * Points entry {@code index} at {@code lengthBytes} of {@code base} from {@code offsetBytes}, without creating a
     * slice: the range is checked against {@code base} here, the address written directly.
     *
     * @return this
     */
    public IoVecArray set(final int index, final MemorySegment base, final long offsetBytes, final long lengthBytes) {
        if (!base.isNative()) {
            throw new IllegalArgumentException("iovec buffers must be native segments");
        }
        Objects.checkIndex(index, capacity);
        Objects.checkFromIndexSize(offsetBytes, lengthBytes, base.byteSize());
        entries.set(JAVA_LONG, (long) index * ENTRY_BYTES, base.address() + offsetBytes);
        entries.set(JAVA_LONG, (long) index * ENTRY_BYTES + 8, lengthBytes);
        return this;
    }

    /** @return the byte length recorded in entry {@code index} */
    public long length(final int index) {
        Objects.checkIndex(index, capacity);
        return entries.get(JAVA_LONG, (long) index * ENTRY_BYTES + 8);
    }

    MemorySegment segment() {
        return entries;
    }

    void checkCount(final int count) {
        if (count < 0 || count > capacity) {
            throw new IndexOutOfBoundsException("iovec count " + count + " outside capacity " + capacity);
        }
    }
}

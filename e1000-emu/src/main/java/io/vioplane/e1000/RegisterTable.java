package io.vioplane.e1000;

/**
 * The 82540EM register file as a dispatch table (SDM table 13-2): one read handler and one write handler per
 * dword of BAR0, plus access flags; the raw values live in {@link #values()}, indexed by dword. A register with no
 * handler is unimplemented: its reads return 0 and its writes are ignored, each counted by the caller.
 *
 * <pre>
 *   index = offset >>> 2          (0 .. 0x7FFF)
 *   flags[index]  READABLE | WRITABLE
 *   reads[index]  ReadHandler     (plain value, read-to-clear, computed)
 *   writes[index] WriteHandler    (plain store, masked store, side effects)
 * </pre>
 */
final class RegisterTable {
    /** The register can be read. */
    static final byte READABLE = 1;
    /** The register can be written. */
    static final byte WRITABLE = 2;

    /** Reads the register at {@code index}. */
    @FunctionalInterface
    interface ReadHandler {
        int read(int index);
    }

    /** Writes {@code value} to the register at {@code index}. */
    @FunctionalInterface
    interface WriteHandler {
        void write(int index, int value);
    }

    private static final int DWORDS = E1000Registers.MMIO_BYTES >>> 2;

    private final int[] values = new int[DWORDS];
    private final byte[] flags = new byte[DWORDS];
    private final ReadHandler[] reads = new ReadHandler[DWORDS];
    private final WriteHandler[] writes = new WriteHandler[DWORDS];
    private final ReadHandler plainRead = index -> values[index];
    private final WriteHandler plainWrite = (index, value) -> values[index] = value;

    /** @return the raw register values, indexed by dword */
    int[] values() {
        return values;
    }

    /** @return a read handler returning the stored value */
    ReadHandler plainRead() {
        return plainRead;
    }

    /** @return a write handler storing the value */
    WriteHandler plainWrite() {
        return plainWrite;
    }

    /** @return a write handler storing {@code value & mask} */
    WriteHandler maskedWrite(final int mask) {
        return (index, value) -> values[index] = value & mask;
    }

    /** Defines a read/write register stored as written. */
    void plain(final int offset) {
        define(offset, 1, plainRead, plainWrite);
    }

    /** Defines {@code count} consecutive registers from {@code offset}; a null handler leaves that direction out. */
    void define(final int offset, final int count, final ReadHandler read, final WriteHandler write) {
        for (int i = 0; i < count; i++) {
            final int index = E1000Registers.index(offset) + i;
            reads[index] = read;
            writes[index] = write;
            flags[index] = (byte) ((read != null ? READABLE : 0) | (write != null ? WRITABLE : 0));
        }
    }

    /** @return the flags of the register at {@code index} (0: unimplemented) */
    int flags(final int index) {
        return flags[index];
    }

    /** @return the register's value through its read handler; the caller checks {@link #READABLE} */
    int read(final int index) {
        return reads[index].read(index);
    }

    /** Writes through the register's write handler; the caller checks {@link #WRITABLE}. */
    void write(final int index, final int value) {
        writes[index].write(index, value);
    }

    /** @return the stored value at byte offset {@code offset}, without side effects */
    int get(final int offset) {
        return values[offset >>> 2];
    }

    /** Stores {@code value} at byte offset {@code offset}, without side effects. */
    void set(final int offset, final int value) {
        values[offset >>> 2] = value;
    }

    /** Clears every stored value. */
    void clear() {
        java.util.Arrays.fill(values, 0);
    }
}

package io.vioplane.platform.pci;

import io.vioplane.platform.irq.MsiMessage;

/**
 * The MSI-X capability and its table (PCI Local Bus 3.0, 6.8.2): the capability in configuration space, the table
 * and pending-bit array in a memory BAR.
 *
 * <pre>
 *   capability: +0 ID 0x11, next  +2 control: 10:0 table size - 1, 14 function mask (RW), 15 enable (RW)
 *               +4 table offset | BIR   +8 PBA offset | BIR
 *   table entry (16 bytes): +0 address low, +4 address high, +8 data, +12 vector control (bit 0 masked)
 * </pre>
 *
 * The table is guest memory-mapped I/O: {@link #readTable} and {@link #writeTable} take 4- and 8-byte accesses as
 * the spec requires and ignore anything else.
 */
public final class MsixCapability {
    private static final int LENGTH_BYTES = 12;
    private static final int ENTRY_BYTES = 16;
    private static final int CONTROL_FUNCTION_MASK = 1 << 14;
    private static final int CONTROL_ENABLE = 1 << 15;

    private final PciFunction function;
    private final int offset;
    private final int vectors;
    private final int[] table;
    private final long pbaOffset;
    private final long[] pending;

    /**
     * Adds the capability; the table sits at {@code tableOffset} in BAR {@code bar}, the PBA right after it.
     */
    public MsixCapability(final PciFunction function, final int vectors, final int bar, final long tableOffset) {
        if (vectors < 1 || vectors > 2048) {
            throw new IllegalArgumentException("MSI-X vectors must be 1-2048: " + vectors);
        }
        this.function = function;
        this.vectors = vectors;
        this.table = new int[vectors * 4];
        this.pbaOffset = tableOffset + (long) vectors * ENTRY_BYTES;
        this.pending = new long[(vectors + 63) / 64];
        for (int vector = 0; vector < vectors; vector++) {
            table[vector * 4 + 3] = 1;
        }
        offset = function.addCapability(PciRegisters.CAP_MSIX, LENGTH_BYTES);
        final ConfigSpace config = function.config();
        config.set(offset + 2, 2, vectors - 1);
        config.writable(offset + 2, 2, CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
        config.set(offset + 4, 4, (int) tableOffset | bar);
        config.set(offset + 8, 4, (int) pbaOffset | bar);
    }

    /** @return bytes the table and PBA take in the BAR */
    public long regionBytes() {
        return (long) vectors * ENTRY_BYTES + pending.length * 8L;
    }

    /** @return whether MSI-X is enabled and the function not masked */
    public boolean enabled() {
        final int control = function.config().get(offset + 2, 2);
        return (control & CONTROL_ENABLE) != 0 && (control & CONTROL_FUNCTION_MASK) == 0;
    }

    /** @return the number of vectors */
    public int vectors() {
        return vectors;
    }

    /** @return whether {@code vector}'s entry is masked */
    public boolean masked(final int vector) {
        return (table[vector * 4 + 3] & 1) != 0;
    }

    /** @return the message of {@code vector} as the guest programmed it */
    public MsiMessage message(final int vector) {
        final long address = (table[vector * 4] & 0xFFFF_FFFFL) | ((long) table[vector * 4 + 1] << 32);
        return new MsiMessage(address, table[vector * 4 + 2]);
    }

    /** Marks {@code vector} pending (it was raised while masked). */
    public void setPending(final int vector, final boolean isPending) {
        if (isPending) {
            pending[vector >>> 6] |= 1L << (vector & 63);
        } else {
            pending[vector >>> 6] &= ~(1L << (vector & 63));
        }
    }

    /**
     * @param regionOffset offset from the table's start
     * @return the value, all ones for an access outside table and PBA or of a size other than 4 or 8
     */
    public long readTable(final long regionOffset, final int sizeBytes) {
        final long tableBytes = (long) vectors * ENTRY_BYTES;
        if ((sizeBytes != 4 && sizeBytes != 8) || (regionOffset & (sizeBytes - 1)) != 0 || regionOffset < 0) {
            return -1L;
        }
        if (regionOffset + sizeBytes <= tableBytes) {
            final int word = (int) (regionOffset / 4);
            final long low = table[word] & 0xFFFF_FFFFL;
            return sizeBytes == 4 ? low : low | ((long) table[word + 1] << 32);
        }
        final long pbaIndex = (regionOffset - tableBytes) / 8;
        if (regionOffset >= tableBytes && pbaIndex < pending.length) {
            final long bits = pending[(int) pbaIndex];
            return sizeBytes == 8 ? bits : (regionOffset & 4) == 0 ? bits & 0xFFFF_FFFFL : bits >>> 32;
        }
        return -1L;
    }

    /**
     * A guest write to the table (the PBA is read-only).
     *
     * @return false if the access was ignored
     */
    public boolean writeTable(final long regionOffset, final int sizeBytes, final long value) {
        final long tableBytes = (long) vectors * ENTRY_BYTES;
        if ((sizeBytes != 4 && sizeBytes != 8) || (regionOffset & (sizeBytes - 1)) != 0 || regionOffset < 0
                || regionOffset + sizeBytes > tableBytes) {
            return false;
        }
        final int word = (int) (regionOffset / 4);
        table[word] = (int) value;
        if (sizeBytes == 8) {
            table[word + 1] = (int) (value >>> 32);
        }
        return true;
    }
}

package io.vioplane.platform.pci;

/**
 * One function's 4 KiB PCI Express configuration space (PCIe Base 6.x, 7.5: 256 bytes compatible with PCI 3.0
 * plus the extended space from 0x100), with a per-byte write mask for each kind of bit:
 *
 * <pre>
 *   read-write          a guest write replaces the bit
 *   write-1-to-clear    a guest write of 1 clears the bit (status registers)
 *   everything else     read-only: guest writes leave it alone
 * </pre>
 *
 * The device model initialises values and masks with the {@code init*} and {@code writable}/{@code writeOneToClear}
 * methods; the guest side goes through {@link #read} and {@link #write}, which refuse nothing: an access that is
 * out of range or not naturally aligned reads as all ones and writes nothing (PCIe 7.2.2: the access is
 * malformed), and the caller counts it.
 */
public final class ConfigSpace {
    public static final int SIZE_BYTES = 4096;

    private final byte[] values = new byte[SIZE_BYTES];
    private final byte[] readWrite = new byte[SIZE_BYTES];
    private final byte[] writeOneToClear = new byte[SIZE_BYTES];

    /** @return whether a guest access of {@code sizeBytes} at {@code offset} is well-formed */
    public static boolean wellFormed(final int offset, final int sizeBytes) {
        return (sizeBytes == 1 || sizeBytes == 2 || sizeBytes == 4) && offset >= 0 && offset <= SIZE_BYTES - sizeBytes
                && (offset & (sizeBytes - 1)) == 0;
    }

    /** @return the little-endian value at {@code offset}, all ones for a malformed access */
    public int read(final int offset, final int sizeBytes) {
        if (!wellFormed(offset, sizeBytes)) {
            return sizeBytes >= 4 ? -1 : (1 << (8 * sizeBytes)) - 1;
        }
        return get(offset, sizeBytes);
    }

    /**
     * Applies a guest write through the masks.
     *
     * @return false if the access was malformed and nothing changed
     */
    public boolean write(final int offset, final int sizeBytes, final int value) {
        if (!wellFormed(offset, sizeBytes)) {
            return false;
        }
        for (int i = 0; i < sizeBytes; i++) {
            final int at = offset + i;
            final byte written = (byte) (value >>> (8 * i));
            byte next = (byte) ((values[at] & ~readWrite[at]) | (written & readWrite[at]));
            next = (byte) (next & ~(written & writeOneToClear[at]));
            values[at] = next;
        }
        return true;
    }

    /** @return the value at {@code offset}, for the device model (no masks) */
    public int get(final int offset, final int sizeBytes) {
        int value = 0;
        for (int i = 0; i < sizeBytes; i++) {
            value |= (values[offset + i] & 0xFF) << (8 * i);
        }
        return value;
    }

    /** Sets {@code sizeBytes} little-endian bytes at {@code offset}, for the device model (no masks). */
    public void set(final int offset, final int sizeBytes, final int value) {
        for (int i = 0; i < sizeBytes; i++) {
            values[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Makes the bits of {@code mask} in the {@code sizeBytes} bytes at {@code offset} guest-writable. */
    public void writable(final int offset, final int sizeBytes, final int mask) {
        for (int i = 0; i < sizeBytes; i++) {
            readWrite[offset + i] = (byte) (mask >>> (8 * i));
        }
    }

    /** Makes the bits of {@code mask} at {@code offset} write-1-to-clear for the guest. */
    public void writeOneToClear(final int offset, final int sizeBytes, final int mask) {
        for (int i = 0; i < sizeBytes; i++) {
            writeOneToClear[offset + i] = (byte) (mask >>> (8 * i));
        }
    }

    /** @return the guest-writable mask of the byte at {@code offset} */
    public int writableMask(final int offset) {
        return readWrite[offset] & 0xFF;
    }
}

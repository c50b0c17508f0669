package io.vioplane.vmx.machine;

/**
 * A range of guest-physical addresses or I/O ports a device claims.
 *
 * @param owner names the device in error messages
 */
public record AddressRange(long start, long lengthBytes, String owner) {
    public AddressRange {
        if (lengthBytes <= 0) {
            throw new IllegalArgumentException(owner + ": range length must be positive: " + lengthBytes);
        }
        if (Long.compareUnsigned(start + lengthBytes, start) < 0 && start + lengthBytes != 0) {
            throw new IllegalArgumentException(owner + ": range wraps: 0x" + Long.toHexString(start) + "+"
                    + lengthBytes);
        }
    }

    /** @return the first address after the range */
    public long end() {
        return start + lengthBytes;
    }

    /** @return whether the two ranges share an address */
    public boolean overlaps(final AddressRange other) {
        return Long.compareUnsigned(start, other.end() - 1) <= 0 && Long.compareUnsigned(other.start, end() - 1) <= 0;
    }

    @Override
    public String toString() {
        return String.format("[0x%x, 0x%x) of %s", start, end(), owner);
    }
}

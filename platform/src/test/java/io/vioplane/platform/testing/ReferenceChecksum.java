package io.vioplane.platform.testing;

/**
 * The Internet checksum (RFC 1071) written the slow, obvious way over a byte array: the oracle tests use to check
 * checksums the code under test computed or verified, independent of the production implementation.
 */
public final class ReferenceChecksum {
    private ReferenceChecksum() {
    }

    /** @return the one's-complement sum of {@code length} bytes plus {@code initial}, folded, not complemented */
    public static int sum(final byte[] data, final int offset, final int length, final long initial) {
        long sum = initial;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += ((data[offset + i] & 0xFF) << 8) | (data[offset + i + 1] & 0xFF);
        }
        if ((length & 1) != 0) {
            sum += (data[offset + length - 1] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }
}

package io.vioplane.virtioblk;

/**
 * The limits a virtio-blk device announces in its configuration (VIRTIO 1.x section 5.2.4) and enforces on
 * every request.
 *
 * @param segMax                  the most data segments in one request (seg_max)
 * @param sizeMaxBytes            the largest segment (size_max)
 * @param maxDiscardSectors       the largest DISCARD range
 * @param maxDiscardSegments      the most ranges in one DISCARD
 * @param discardAlignmentSectors the alignment of DISCARD ranges (start and length)
 * @param maxWriteZeroesSectors   the largest WRITE_ZEROES range
 * @param maxWriteZeroesSegments  the most ranges in one WRITE_ZEROES
 */
public record BlkLimits(int segMax, int sizeMaxBytes, int maxDiscardSectors, int maxDiscardSegments,
                        int discardAlignmentSectors, int maxWriteZeroesSectors, int maxWriteZeroesSegments) {
    /** The limits vioplane offers by default: 126 segments of up to 1 MiB, 4 GiB - 512 per range, 16 ranges, any sector alignment. */
    public static final BlkLimits DEFAULT = new BlkLimits(126, 1 << 20, (1 << 23) - 1, 16, 1, (1 << 23) - 1, 16);

    /** Checks the limits once. */
    public BlkLimits {
        if (segMax < 1 || segMax > 1022) {
            throw new IllegalArgumentException("seg_max must be 1..1022: " + segMax);
        }
        if (sizeMaxBytes < BlkRequestType.SECTOR_BYTES) {
            throw new IllegalArgumentException("size_max must be at least one sector: " + sizeMaxBytes);
        }
        if (maxDiscardSectors < 1 || maxDiscardSegments < 1 || maxWriteZeroesSectors < 1
                || maxWriteZeroesSegments < 1 || discardAlignmentSectors < 1) {
            throw new IllegalArgumentException("discard and write-zeroes limits must be positive: " + this);
        }
    }
}

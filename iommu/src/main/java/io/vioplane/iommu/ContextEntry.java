package io.vioplane.iommu;

/**
 * A present, validated legacy-mode context entry (VT-d 3.x section 9.3): how one device's DMA is translated.
 *
 * <pre>
 *   lo  0      P            hi  2..0   AW (1 = 39-bit 3-level, 2 = 48-bit 4-level)
 *       1      FPD              6..3   available
 *       3..2   TT               7      reserved
 *       11..4  reserved         23..8  DID
 *       63..12 SLPTPTR          63..24 reserved
 * </pre>
 *
 * @param sourceId           the device the entry belongs to
 * @param faultsSuppressed   FPD: faults of this device are not recorded (they are still counted)
 * @param passThrough        TT = 2: untranslated, iova = gpa
 * @param secondLevelRootGpa SLPTPTR: the top paging table
 * @param levels             3 or 4 paging levels (from AW)
 * @param domainId           DID: the tag of this device's IOTLB entries
 */
public record ContextEntry(int sourceId, boolean faultsSuppressed, boolean passThrough, long secondLevelRootGpa,
                           int levels, int domainId) {
    /** @return the adjusted guest address width in bits: 39 for 3 levels, 48 for 4 */
    public int addressWidthBits() {
        return 12 + 9 * levels;
    }
}

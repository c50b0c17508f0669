package io.vioplane.iommu;

/**
 * A present, validated interrupt remapping table entry (VT-d 3.x sections 9.10 and 9.11), remapped or posted.
 *
 * <pre>
 *   remapped (IM = 0)                              posted (IM = 1)
 *   0      P        5..7   DLM                     0      P        14     URG
 *   1      FPD      8..11  available               1      FPD      15     IM = 1
 *   2      DM       12..14 reserved                2..7   reserved 23..16 vector
 *   3      RH       15     IM = 0                  12..13 reserved 37..24 reserved
 *   4      TM       23..16 vector                  63..38 PDA[31:6]
 *   31..24 reserved 63..32 destination (xAPIC: 47..40, others reserved)
 *   both: 79..64 SID, 81..80 SQ, 83..82 SVT; remapped 127..84 reserved; posted 95..84 reserved, 127..96 PDA[63:32]
 * </pre>
 *
 * @param index                the entry's index in the table
 * @param faultsSuppressed     FPD: faults on this entry are not recorded
 * @param posted               IM: the interrupt is posted to a descriptor
 * @param vector               the vector to deliver or post
 * @param destination          the destination APIC id (remapped)
 * @param deliveryMode         DLM (remapped)
 * @param logicalDestination   DM (remapped)
 * @param redirectionHint      RH (remapped)
 * @param levelTriggered       TM (remapped)
 * @param urgent               URG (posted)
 * @param descriptorGpa        PDA: the posted-interrupt descriptor (posted)
 * @param sourceId             SID: the requester allowed to use this entry
 * @param sourceQualifier      SQ: which function bits of SID to ignore (SVT = 1)
 * @param sourceValidationType SVT: 0 none, 1 SID/SQ, 2 bus range
 */
public record Irte(int index, boolean faultsSuppressed, boolean posted, int vector, int destination, int deliveryMode,
                   boolean logicalDestination, boolean redirectionHint, boolean levelTriggered, boolean urgent,
                   long descriptorGpa, int sourceId, int sourceQualifier, int sourceValidationType) {
    private static final long REMAPPED_RESERVED_LO = 0xFF00_7000L;
    private static final long XAPIC_DESTINATION_RESERVED = 0xFFFF_00FF_0000_0000L;
    private static final long REMAPPED_RESERVED_HI = 0xFFFF_FFFF_FFF0_0000L;
    private static final long POSTED_RESERVED_LO = 0x3F_FF00_30FCL;
    private static final long POSTED_RESERVED_HI = 0xFFF0_0000L;

    /**
     * Decodes the entry read at {@code index}.
     *
     * @param extendedDestinations IRTA.EIME: 32-bit x2APIC destinations, else 8-bit xAPIC ids in bits 47..40
     * @param requester            the source ID of the interrupt request, for faults
     * @throws DmaFault IR_ENTRY_NOT_PRESENT or IR_ENTRY_RESERVED
     */
    public static Irte decode(final long lo, final long hi, final int index, final boolean extendedDestinations,
                              final int requester) {
        if ((lo & 1) == 0) {
            throw new DmaFault(FaultReason.IR_ENTRY_NOT_PRESENT, requester, index);
        }
        final boolean posted = (lo & 0x8000) != 0;
        final int validationType = (int) (hi >>> 18) & 3;
        final boolean reserved = validationType == 3 || (posted
                ? (lo & POSTED_RESERVED_LO) != 0 || (hi & POSTED_RESERVED_HI) != 0
                : (lo & REMAPPED_RESERVED_LO) != 0 || (hi & REMAPPED_RESERVED_HI) != 0
                        || !extendedDestinations && (lo & XAPIC_DESTINATION_RESERVED) != 0);
        if (reserved) {
            throw new DmaFault(FaultReason.IR_ENTRY_RESERVED, requester, index);
        }
        final int destination = extendedDestinations ? (int) (lo >>> 32) : (int) (lo >>> 40) & 0xFF;
        final long descriptorGpa = (lo >>> 38) << 6 | (hi >>> 32) << 32;
        return new Irte(index, (lo & 2) != 0, posted, (int) (lo >>> 16) & 0xFF, posted ? 0 : destination,
                posted ? 0 : (int) (lo >>> 5) & 7, !posted && (lo & 4) != 0, !posted && (lo & 8) != 0,
                !posted && (lo & 0x10) != 0, posted && (lo & 0x4000) != 0, posted ? descriptorGpa : 0,
                (int) hi & 0xFFFF, (int) (hi >>> 16) & 3, validationType);
    }

    /**
     * Source-ID validation (VT-d 3.x section 9.10, SVT/SQ/SID).
     *
     * @return true if {@code requester} may use this entry
     */
    public boolean admits(final int requester) {
        return switch (sourceValidationType) {
            case 0 -> true;
            case 1 -> {
                final int ignored = sourceQualifier == 0 ? 0 : sourceQualifier == 1 ? 0b100 : sourceQualifier == 2
                        ? 0b110 : 0b111;
                yield (requester & ~ignored & 0xFFFF) == (sourceId & ~ignored & 0xFFFF);
            }
            case 2 -> {
                final int bus = SourceId.bus(requester);
                yield bus >= (sourceId >>> 8 & 0xFF) && bus <= (sourceId & 0xFF);
            }
            default -> false;
        };
    }
}

package io.vioplane.iommu;

/**
 * What a modelled VT-d unit supports, fixed at creation and reported through CAP and ECAP (VT-d 3.x sections
 * 11.4.2 and 11.4.3). The host address width (the bits a table pointer or page frame may use) equals MGAW here:
 * the model's "host" is the guest-physical space it walks, so an address above MGAW is above anything it could
 * name (the same choice QEMU makes with {@code aw-bits}).
 *
 * @param mgawBits         maximum guest address width: 39 (3-level tables only) or 48 (3- and 4-level)
 * @param faultRecordCount number of fault recording registers (NFR + 1), 1..256
 * @param deviceTlb        device-TLBs supported (ECAP.DT, section 11.4.3): context entries may then use translation
 *                         type 01b, which translates untranslated requests as 00b does and also lets the device ask
 *                         for translations (PCIe ATS); QEMU's {@code intel-iommu,device-iotlb=on}, and what Linux
 *                         programs for an ATS-capable device behind it
 */
public record VtdConfig(int mgawBits, int faultRecordCount, boolean deviceTlb) {
    /** The architecture version VER reports: 1.0. */
    public static final int VERSION = 0x10;
    /** Offset of the first fault recording register (CAP.FRO * 16). */
    public static final int FAULT_RECORD_OFFSET = 0x220;
    /** Offset of the IOTLB registers (ECAP.IRO * 16): IVA here, IOTLB at +8. */
    public static final int IOTLB_REGISTERS_OFFSET = 0xF0;
    /** Largest address mask CAP.MAMV allows in a page-selective invalidation. */
    public static final int MAX_ADDRESS_MASK = 18;

    /**
     * A 48-bit MGAW (4-level tables) with 4 fault recording registers. (QEMU 7.2's intel-iommu defaults to
     * aw-bits=39 and one fault recording register; {@code aw-bits=48} matches this MGAW.)
     */
    public static VtdConfig standard() {
        return new VtdConfig(48, 4);
    }

    /**
     * The unit QEMU 7.2's {@code -device intel-iommu,device-iotlb=on} emulates by default ({@code aw-bits=39}, legacy
     * mode): 39-bit MGAW, device-TLBs.
     */
    public static VtdConfig qemuDeviceIotlb() {
        return new VtdConfig(39, 4, true);
    }

    /** A unit without device-TLB support. */
    public VtdConfig(final int mgawBits, final int faultRecordCount) {
        this(mgawBits, faultRecordCount, false);
    }

    /** Validates the configuration. */
    public VtdConfig {
        if (mgawBits != 39 && mgawBits != 48) {
            throw new IllegalArgumentException("MGAW must be 39 or 48 bits: " + mgawBits);
        }
        if (faultRecordCount < 1 || faultRecordCount > 256) {
            throw new IllegalArgumentException("1..256 fault recording registers: " + faultRecordCount);
        }
    }

    /** @return mask of the address bits a table pointer or page frame may use (bits 0..HAW-1) */
    public long hostAddressMask() {
        return (1L << mgawBits) - 1;
    }

    /** @return true if a context entry's AW field (1 = 39-bit 3-level, 2 = 48-bit 4-level) is in SAGAW */
    public boolean supportsAddressWidth(final int aw) {
        return aw == 1 || (aw == 2 && mgawBits >= 48);
    }

    /** @return the SAGAW field (CAP bits 8..12): bit 1 for 39-bit, bit 2 for 48-bit */
    public int sagaw() {
        return mgawBits >= 48 ? 0b110 : 0b010;
    }

    /** @return the size of the register file in bytes, through the last fault recording register */
    public int registerFileBytes() {
        return FAULT_RECORD_OFFSET + 16 * faultRecordCount;
    }

    /**
     * @return the CAP register: ND = 6 (65536 domains), SAGAW, MGAW, FRO, SLLPS (2 MiB and 1 GiB), PSI, NFR,
     *     MAMV, and PI (posted interrupts); CM = 0, so not-present entries are never cached
     */
    public long capability() {
        return 6L
                | (long) sagaw() << 8
                | (long) (mgawBits - 1) << 16
                | (long) (FAULT_RECORD_OFFSET / 16) << 24
                | 3L << 34
                | 1L << 39
                | (long) (faultRecordCount - 1) << 40
                | (long) MAX_ADDRESS_MASK << 48
                | 1L << 59;
    }

    /**
     * @return the ECAP register: QI, IR, EIM (x2APIC destinations), PT (pass-through), IRO and MHMV = 15, DT when
     *     {@link #deviceTlb}; no scalable mode
     */
    public long extendedCapability() {
        return (deviceTlb ? 1L << 2 : 0)
                | 1L << 1
                | 1L << 3
                | 1L << 4
                | 1L << 6
                | (long) (IOTLB_REGISTERS_OFFSET / 16) << 8
                | 15L << 20;
    }
}

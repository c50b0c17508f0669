package io.vioplane.vmx.loader;

import io.vioplane.platform.memory.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The ACPI tables the loader writes for a machine with a VT-d unit: an RSDP (ACPI 6.5 section 5.2.5.3, revision 2)
 * pointing to an XSDT (section 5.2.8) with one entry, the DMAR table (VT-d 3.x chapter 8, "BIOS Considerations").
 * They live in the BIOS read-only area, where ACPI section 5.2.5.1 tells an IA-PC operating system to scan for
 * the RSDP on a 16-byte boundary (0xE0000 - 0xFFFFF), above the guest stack of {@link BootTables}:
 *
 * <pre>
 *   0xF0000 RSDP (36 bytes): "RSD PTR ", checksum over bytes 0..19, revision 2, RSDT 0, length 36, XSDT address,
 *           extended checksum over all 36 bytes
 *   0xF0040 XSDT: header (36 bytes, section 5.2.6) + one 64-bit entry: the DMAR table
 *   0xF0080 DMAR: header, host address width (HAW - 1), flags (bit 0 INTR_REMAP), 10 reserved bytes, then one DRHD
 *           (section 8.3): type 0, length 16, flags INCLUDE_PCI_ALL, size (2^N 4 KiB pages), segment 0, base
 * </pre>
 *
 * <p>The guest finds the RSDP by that scan; vioplane enters images at their 64-bit entry with no PVH
 * {@code hvm_start_info}, so there is no {@code rsdp_paddr} to hand over. QEMU's firmware (SeaBIOS) also places its
 * RSDP in this area, so the same guest code finds QEMU's tables there. Every table's checksum makes its bytes sum
 * to 0 modulo 256.
 */
public final class AcpiTables {
    /** Where the RSDP is written (16-byte aligned, inside 0xE0000 - 0xFFFFF). */
    public static final long RSDP_GPA = 0xF0000;
    /** Where the XSDT is written. */
    public static final long XSDT_GPA = 0xF0040;
    /** Where the DMAR table is written. */
    public static final long DMAR_GPA = 0xF0080;
    /** The first byte after the area the tables may use. */
    public static final long AREA_END_GPA = 0x100000;
    /** Size of the revision-2 RSDP. */
    public static final int RSDP_BYTES = 36;
    /** Size of the common table header (ACPI section 5.2.6). */
    public static final int HEADER_BYTES = 36;
    /** Size of the XSDT with its one entry. */
    public static final int XSDT_BYTES = HEADER_BYTES + 8;
    /** Size of the DMAR fixed part: header, host address width, flags, 10 reserved bytes. */
    public static final int DMAR_FIXED_BYTES = 48;
    /** Size of a DRHD without device scope entries. */
    public static final int DRHD_BYTES = 16;
    /** Size of the DMAR table: the fixed part and one DRHD. */
    public static final int DMAR_BYTES = DMAR_FIXED_BYTES + DRHD_BYTES;
    /** DMAR flags bit 0: the platform supports interrupt remapping. */
    public static final int DMAR_FLAG_INTR_REMAP = 1;
    /** DRHD flags bit 0: the unit covers every PCI device of its segment not claimed by another DRHD. */
    public static final int DRHD_FLAG_INCLUDE_PCI_ALL = 1;
    /** The OEM ID in every header and the RSDP. */
    public static final String OEM_ID = "VIOPLN";
    /** The OEM table ID in every header. */
    public static final String OEM_TABLE_ID = "VIOPLANE";
    /** The creator ID in every header. */
    public static final String CREATOR_ID = "VPLN";

    private static final int DRHD_TYPE = 0;
    private static final int DMAR_REVISION = 1;
    private static final int XSDT_REVISION = 1;
    private static final int RSDP_REVISION = 2;
    private static final int RSDP_V1_BYTES = 20;
    private static final int CHECKSUM_OFFSET = 9;

    private AcpiTables() {
    }

    /**
     * One DMA-remapping hardware unit as the DMAR table describes it: the DMAR's host address width and flags
     * (VT-d 3.x section 8.1) and one DRHD (section 8.3) for PCI segment 0 with INCLUDE_PCI_ALL.
     *
     * @param registerBaseGpa       the unit's register set base (4 KiB aligned)
     * @param hostAddressWidthBits  the platform's DMA physical addressability (the DMAR field holds this minus 1)
     * @param interruptRemapping    whether the unit supports interrupt remapping (DMAR flag INTR_REMAP)
     * @param registerPagesLog2     the DRHD Size field: the register set is 2^N 4 KiB pages
     */
    public record Dmar(long registerBaseGpa, int hostAddressWidthBits, boolean interruptRemapping,
                       int registerPagesLog2) {
        /** Validates the description. */
        public Dmar {
            if ((registerBaseGpa & 0xFFF) != 0) {
                throw new IllegalArgumentException("register base must be 4 KiB aligned: 0x"
                        + Long.toHexString(registerBaseGpa));
            }
            if (hostAddressWidthBits < 1 || hostAddressWidthBits > 64) {
                throw new IllegalArgumentException("host address width out of range: " + hostAddressWidthBits);
            }
            if (registerPagesLog2 < 0 || registerPagesLog2 > 15) {
                throw new IllegalArgumentException("register pages log2 out of range: " + registerPagesLog2);
            }
        }
    }

    /**
     * Writes the RSDP, the XSDT and the DMAR table describing {@code unit} into {@code memory}.
     *
     * @return the RSDP's address
     * @throws ImageException if guest memory does not cover the tables' area
     */
    public static long write(final GuestMemory memory, final Dmar unit) {
        if (memory.regionAt(RSDP_GPA) == null || memory.regionAt(AREA_END_GPA - 1) == null) {
            throw new ImageException(String.format("guest memory does not cover the ACPI area [0x%x, 0x%x)",
                    RSDP_GPA, AREA_END_GPA));
        }
        memory.writeBytes(DMAR_GPA, dmar(unit));
        memory.writeBytes(XSDT_GPA, xsdt(DMAR_GPA));
        memory.writeBytes(RSDP_GPA, rsdp(XSDT_GPA));
        return RSDP_GPA;
    }

    /** @return the RSDP (revision 2) pointing to the XSDT at {@code xsdtGpa} */
    static byte[] rsdp(final long xsdtGpa) {
        final ByteBuffer table = table(RSDP_BYTES);
        table.put(ascii("RSD PTR ", 8));
        table.put((byte) 0);
        table.put(ascii(OEM_ID, 6));
        table.put((byte) RSDP_REVISION);
        table.putInt(0);
        table.putInt(RSDP_BYTES);
        table.putLong(xsdtGpa);
        final byte[] bytes = table.array();
        bytes[8] = checksum(bytes, 0, RSDP_V1_BYTES);
        bytes[32] = checksum(bytes, 0, RSDP_BYTES);
        return bytes;
    }

    /** @return the XSDT listing the one table at {@code entryGpa} */
    static byte[] xsdt(final long entryGpa) {
        final ByteBuffer table = table(XSDT_BYTES);
        header(table, "XSDT", XSDT_BYTES, XSDT_REVISION);
        table.putLong(entryGpa);
        return sealed(table);
    }

    /** @return the DMAR table with one DRHD for {@code unit} on PCI segment 0 */
    static byte[] dmar(final Dmar unit) {
        final ByteBuffer table = table(DMAR_BYTES);
        header(table, "DMAR", DMAR_BYTES, DMAR_REVISION);
        table.put((byte) (unit.hostAddressWidthBits() - 1));
        table.put((byte) (unit.interruptRemapping() ? DMAR_FLAG_INTR_REMAP : 0));
        table.position(DMAR_FIXED_BYTES);
        table.putShort((short) DRHD_TYPE);
        table.putShort((short) DRHD_BYTES);
        table.put((byte) DRHD_FLAG_INCLUDE_PCI_ALL);
        table.put((byte) unit.registerPagesLog2());
        table.putShort((short) 0);
        table.putLong(unit.registerBaseGpa());
        return sealed(table);
    }

    private static ByteBuffer table(final int sizeBytes) {
        return ByteBuffer.allocate(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** ACPI section 5.2.6: signature, length, revision, checksum (set by {@link #sealed}), OEM and creator IDs. */
    private static void header(final ByteBuffer table, final String signature, final int lengthBytes,
                               final int revision) {
        table.put(ascii(signature, 4));
        table.putInt(lengthBytes);
        table.put((byte) revision);
        table.put((byte) 0);
        table.put(ascii(OEM_ID, 6));
        table.put(ascii(OEM_TABLE_ID, 8));
        table.putInt(1);
        table.put(ascii(CREATOR_ID, 4));
        table.putInt(1);
    }

    private static byte[] sealed(final ByteBuffer table) {
        final byte[] bytes = table.array();
        bytes[CHECKSUM_OFFSET] = checksum(bytes, 0, bytes.length);
        return bytes;
    }

    /** @return the byte that makes {@code bytes[from, from + count)} sum to 0 modulo 256 (its own slot holds 0) */
    static byte checksum(final byte[] bytes, final int from, final int count) {
        int sum = 0;
        for (int i = from; i < from + count; i++) {
            sum += bytes[i];
        }
        return (byte) -sum;
    }

    private static byte[] ascii(final String text, final int lengthBytes) {
        final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length != lengthBytes) {
            throw new IllegalArgumentException("'" + text + "' is not " + lengthBytes + " characters");
        }
        return bytes;
    }
}

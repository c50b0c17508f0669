package io.vioplane.vmx.loader;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vmx.testkit.GuestImages;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ACPI tables the loader writes for a machine with a VT-d unit, read back from guest memory and checked byte by
 * byte against ACPI 6.5 sections 5.2.5.3 (RSDP), 5.2.6 (header), 5.2.8 (XSDT) and VT-d 3.x sections 8.1 (DMAR)
 * and 8.3 (DRHD).
 */
class AcpiTablesTest {
    private static final long MIB = 1L << 20;
    private static final AcpiTables.Dmar UNIT = new AcpiTables.Dmar(0xFED9_0000L, 48, true, 0);

    private static byte[] read(final GuestMemory memory, final long gpa, final int lengthBytes) {
        final byte[] bytes = new byte[lengthBytes];
        for (int i = 0; i < lengthBytes; i++) {
            bytes[i] = memory.getByte(gpa + i);
        }
        return bytes;
    }

    private static int sum(final byte[] bytes, final int count) {
        int sum = 0;
        for (int i = 0; i < count; i++) {
            sum += bytes[i] & 0xFF;
        }
        return sum & 0xFF;
    }

    private static ByteBuffer le(final byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String ascii(final byte[] bytes, final int from, final int count) {
        return new String(bytes, from, count, StandardCharsets.US_ASCII);
    }

    /** Checks the common header (ACPI 6.5 section 5.2.6) field by field, checksum included. */
    private static void assertHeader(final byte[] table, final String signature, final int lengthBytes,
                                     final int revision) {
        assertEquals(signature, ascii(table, 0, 4), "signature");
        assertEquals(lengthBytes, le(table).getInt(4), "length");
        assertEquals(revision, table[8], "revision");
        assertEquals(0, sum(table, lengthBytes), signature + ": all bytes sum to 0 modulo 256");
        assertEquals("VIOPLN", ascii(table, 10, 6), "OEM ID");
        assertEquals("VIOPLANE", ascii(table, 16, 8), "OEM table ID");
        assertEquals(1, le(table).getInt(24), "OEM revision");
        assertEquals("VPLN", ascii(table, 28, 4), "creator ID");
        assertEquals(1, le(table).getInt(32), "creator revision");
    }

    @Test
    void rsdpIsARevisionTwoPointerToTheXsdtWithBothChecksums() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 2 * MIB)) {
            assertEquals(AcpiTables.RSDP_GPA, AcpiTables.write(memory, UNIT));
            final byte[] rsdp = read(memory, AcpiTables.RSDP_GPA, 36);
            assertEquals("RSD PTR ", ascii(rsdp, 0, 8));
            assertEquals(0, sum(rsdp, 20), "ACPI 1.0 checksum over the first 20 bytes");
            assertEquals("VIOPLN", ascii(rsdp, 9, 6));
            assertEquals(2, rsdp[15], "revision 2: the XSDT fields are valid");
            assertEquals(0, le(rsdp).getInt(16), "no RSDT");
            assertEquals(36, le(rsdp).getInt(20), "length");
            assertEquals(AcpiTables.XSDT_GPA, le(rsdp).getLong(24), "XSDT address");
            assertEquals(0, sum(rsdp, 36), "extended checksum over all 36 bytes");
            assertArrayEquals(new byte[3], new byte[] {rsdp[33], rsdp[34], rsdp[35]}, "reserved");
        }
    }

    @Test
    void xsdtListsOnlyTheDmarTable() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 2 * MIB)) {
            AcpiTables.write(memory, UNIT);
            final byte[] xsdt = read(memory, AcpiTables.XSDT_GPA, 44);
            assertHeader(xsdt, "XSDT", 44, 1);
            assertEquals(AcpiTables.DMAR_GPA, le(xsdt).getLong(36), "entry 0: the DMAR table");
        }
    }

    @Test
    void dmarTableChecksumsAndDescribesTheUnit() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 2 * MIB)) {
            AcpiTables.write(memory, UNIT);
            final byte[] dmar = read(memory, AcpiTables.DMAR_GPA, 64);
            assertHeader(dmar, "DMAR", 64, 1);
            assertEquals(47, dmar[36], "host address width: N + 1 = 48 bits");
            assertEquals(1, dmar[37], "flags: INTR_REMAP only");
            assertArrayEquals(new byte[10], java.util.Arrays.copyOfRange(dmar, 38, 48), "reserved");
            final byte[] drhd = java.util.Arrays.copyOfRange(dmar, 48, 64);
            assertArrayEquals(new byte[] {
                0, 0,                   // type 0: DRHD
                16, 0,                  // length: no device scope entries
                1,                      // flags: INCLUDE_PCI_ALL
                0,                      // size: 2^0 pages of 4 KiB
                0, 0,                   // PCI segment 0
                0x00, 0x00, (byte) 0xD9, (byte) 0xFE, 0, 0, 0, 0,   // register base 0xFED90000
            }, drhd);
        }
    }

    @Test
    void dmarLeavesInterruptRemappingOutWhenTheUnitLacksIt() {
        final byte[] dmar = AcpiTables.dmar(new AcpiTables.Dmar(0x1_0000_0000L, 39, false, 1));
        assertEquals(38, dmar[36], "host address width 39");
        assertEquals(0, dmar[37], "no INTR_REMAP");
        assertEquals(1, dmar[53], "size: 2 pages");
        assertEquals(0x1_0000_0000L, le(dmar).getLong(56));
        assertEquals(0, sum(dmar, dmar.length));
    }

    @Test
    void aGuestScanOfTheBiosAreaFindsTheRsdpOnA16ByteBoundary() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 2 * MIB)) {
            AcpiTables.write(memory, UNIT);
            long found = -1;
            for (long gpa = 0xE0000; gpa < 0x100000; gpa += 16) {
                final byte[] candidate = read(memory, gpa, 20);
                if (ascii(candidate, 0, 8).equals("RSD PTR ") && sum(candidate, 20) == 0) {
                    found = gpa;
                    break;
                }
            }
            assertEquals(AcpiTables.RSDP_GPA, found, "ACPI 6.5 section 5.2.5.1: the 0xE0000-0xFFFFF scan");
        }
    }

    @Test
    void tablesLieAboveTheBootStackAndBelowTheImage() {
        assertTrue(AcpiTables.RSDP_GPA >= BootTables.STACK_TOP, "the stack grows down from STACK_TOP");
        assertEquals(0, AcpiTables.RSDP_GPA % 16);
        assertTrue(AcpiTables.RSDP_GPA + AcpiTables.RSDP_BYTES <= AcpiTables.XSDT_GPA);
        assertTrue(AcpiTables.XSDT_GPA + AcpiTables.XSDT_BYTES <= AcpiTables.DMAR_GPA);
        assertTrue(AcpiTables.DMAR_GPA + AcpiTables.DMAR_BYTES <= AcpiTables.AREA_END_GPA);
        assertEquals(BootTables.IMAGE_MIN_GPA, AcpiTables.AREA_END_GPA);
    }

    @Test
    void loaderWritesTheTablesOnlyForAMachineWithAnIommu() throws IOException {
        final ElfImage image = ElfImage.parse(Files.readAllBytes(GuestImages.require("hello")));
        try (GuestMemory without = GuestMemory.ofMemFd(0, 16 * MIB);
             GuestMemory with = GuestMemory.ofMemFd(0, 16 * MIB)) {
            ImageLoader.load(image, without, 3);
            ImageLoader.load(image, with, 3, UNIT);
            assertArrayEquals(new byte[256], read(without, AcpiTables.RSDP_GPA, 256), "no IOMMU, no tables");
            assertEquals("RSD PTR ", ascii(read(with, AcpiTables.RSDP_GPA, 8), 0, 8));
            assertEquals("DMAR", ascii(read(with, AcpiTables.DMAR_GPA, 4), 0, 4));
            assertEquals(with.getLong(BootTables.PML4_GPA), without.getLong(BootTables.PML4_GPA),
                    "the boot tables are the same either way");
        }
    }

    @Test
    void refusesMemoryThatMissesTheAcpiArea() {
        try (GuestMemory memory = GuestMemory.ofMemFd(BootTables.IMAGE_MIN_GPA, 2 * MIB)) {
            final ImageException refused = assertThrows(ImageException.class, () -> AcpiTables.write(memory, UNIT));
            assertTrue(refused.getMessage().contains("ACPI area"), refused.getMessage());
        }
    }

    @Test
    void refusesAnUnalignedRegisterBase() {
        assertThrows(IllegalArgumentException.class, () -> new AcpiTables.Dmar(0xFED9_0800L, 48, true, 0));
        assertThrows(IllegalArgumentException.class, () -> new AcpiTables.Dmar(0xFED9_0000L, 0, true, 0));
    }
}

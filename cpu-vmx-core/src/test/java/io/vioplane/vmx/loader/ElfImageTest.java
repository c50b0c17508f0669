package io.vioplane.vmx.loader;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.testkit.GuestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guest image loader, on the images the build compiled and on the hostile-image catalogue. */
class ElfImageTest {
    private static final long MIB = 1L << 20;

    static List<HostileImages.Attack> attacks() {
        return HostileImages.all();
    }

    private static byte[] hello() throws IOException {
        return Files.readAllBytes(GuestImages.require("hello"));
    }

    @Test
    void parsesTheBuiltImageWithItsPvhNote() throws IOException {
        final ElfImage image = ElfImage.parse(hello());
        assertTrue(image.segments().size() >= 2);
        assertEquals(BootTables.IMAGE_MIN_GPA, image.segments().getFirst().gpa());
        assertTrue(image.pvhEntryGpa() > BootTables.IMAGE_MIN_GPA, "XEN_ELFNOTE_PHYS32_ENTRY found");
        assertTrue(image.entryGva() != image.pvhEntryGpa());
        assertTrue(image.vectorTableGva() > BootTables.IMAGE_MIN_GPA, "vioplane note: interrupt entry table");
    }

    @Test
    void interruptGatesPointAtTheImagesEntriesInTheGuestsRing() throws IOException {
        final ElfImage image = ElfImage.parse(Files.readAllBytes(GuestImages.require("interrupts")));
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 16 * MIB)) {
            ImageLoader.load(image, memory, 3);
            for (int vector : new int[] {0, 3, 6, 255}) {
                final long entry = memory.getLong(image.vectorTableGva() + 8L * vector);
                final long low = memory.getLong(BootTables.IDT_GPA + 16L * vector);
                assertEquals(entry & 0xFFFF, low & 0xFFFF);
                assertEquals(0x30, (low >>> 16) & 0xFFFF, "ring-3 code segment");
                assertEquals(0xEE, (low >>> 40) & 0xFF, "present, DPL 3, 64-bit interrupt gate");
                assertEquals((entry >>> 16) & 0xFFFF, low >>> 48);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("attacks")
    void rejectsMalformedImage(final HostileImages.Attack attack) throws IOException {
        final byte[] bad = attack.mutation().apply(hello());
        final ImageException error = assertThrows(ImageException.class, () -> ElfImage.parse(bad));
        assertTrue(error.getMessage().contains(attack.expectedError()), error.getMessage());
    }

    @Test
    void rejectsSegmentOutsideGuestMemoryNamingTheFile(@org.junit.jupiter.api.io.TempDir final Path directory)
            throws IOException {
        final Path file = directory.resolve("too-high.elf");
        final byte[] image = hello();
        final int header = HostileImages.loadHeader(image, 1);
        Files.write(file, HostileImages.putLong(HostileImages.putLong(image, header + 16, 0x7000_0000L), header + 24,
                0x7000_0000L));
        final ElfImage parsed = ImageLoader.read(file);
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 16 * MIB)) {
            final ImageException error = assertThrows(ImageException.class,
                    () -> ImageLoader.load(parsed, memory, 3));
            assertTrue(error.getMessage().contains("outside guest memory"), error.getMessage());
        }
    }

    @Test
    void readNamesTheFileInItsError(@org.junit.jupiter.api.io.TempDir final Path directory) throws IOException {
        final Path file = directory.resolve("script.elf");
        Files.writeString(file, "not an image");
        final ImageException error = assertThrows(ImageException.class, () -> ImageLoader.read(file));
        assertTrue(error.getMessage().startsWith(file.toString() + ": not an ELF file"), error.getMessage());
    }

    @Test
    void placesSegmentsAndBuildsTheBootTables() throws IOException {
        final byte[] file = hello();
        final ElfImage image = ElfImage.parse(file);
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 16 * MIB)) {
            final BootCpuState state = ImageLoader.load(image, memory, 3);
            final ElfImage.Segment text = image.segments().getFirst();
            assertArrayEquals(image.fileBytes(text), memory.readBytes(text.gpa(), (int) text.fileBytes()));
            assertEquals(0x33, state.code().selector());
            assertEquals(3, state.code().dpl());
            assertEquals(0x2b, state.data().selector());
            assertEquals(image.entryGva(), state.ripGva());
            assertEquals(BootTables.PDPT_GPA | 0x7, memory.getLong(BootTables.PML4_GPA));
            assertEquals(0x87, memory.getLong(BootTables.PD_GPA), "first 2 MiB: present, writable, user, large");
            assertEquals((3L << 30) | 0x9F, memory.getLong(BootTables.PD_GPA + 8 * 1536), "3 GiB: uncached");
            assertEquals(0x00AFFB000000FFFFL, memory.getLong(BootTables.GDT_GPA + 0x30));
            assertEquals(BootTables.KERNEL_STACK_TOP, memory.getLong(BootTables.TSS_GPA + 4), "TSS RSP0");
            final BootCpuState ring0 = ImageLoader.load(image, memory, 0);
            assertEquals(0x10, ring0.code().selector());
        }
    }

    @Test
    void tssDescriptorMatchesTheSdmLayout() {
        assertEquals(0x0000_8B00_3000_0067L, BootTables.tssDescriptorLow(0x3000, 0x67));
    }
}

package io.vioplane.vmx.loader;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.GuestMemoryRegion;
import io.vioplane.vmx.cpu.BootCpuState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Places an {@link ElfImage} in guest memory and builds the {@link BootTables} it starts with, and the
 * {@link AcpiTables} when the machine has a VT-d unit. Each segment must
 * lie wholly inside one RAM region, at or above {@link BootTables#IMAGE_MIN_GPA} and below the 4 GiB the page
 * tables map; otherwise the image is refused before anything is written.
 */
public final class ImageLoader {
    private ImageLoader() {
    }

    /**
     * Reads and parses the image at {@code path}.
     *
     * @throws ImageException whose message names the file and the reason
     */
    public static ElfImage read(final Path path) {
        final byte[] file;
        try {
            file = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new ImageException(path + ": no such file");
        } catch (IOException e) {
            throw new ImageException(path + ": cannot read: " + e);
        }
        try {
            return ElfImage.parse(file);
        } catch (ImageException e) {
            throw new ImageException(path + ": " + e.getMessage());
        }
    }

    /**
     * Copies the segments into {@code memory} (zero-filling beyond each one's file bytes), writes the boot tables,
     * and returns the CPU state that enters the image at privilege {@code ring}. An image that brings its interrupt
     * handlers enters ring 3 with RFLAGS.IF set: ring 3 cannot execute {@code sti} (it raises #GP, SDM Vol. 2B), so
     * it could never take an MSI or INTx otherwise; no interrupt arrives unless the guest programs a source.
     *
     * @throws ImageException if a segment lies outside guest RAM or over the boot area
     */
    public static BootCpuState load(final ElfImage image, final GuestMemory memory, final int ring) {
        return load(image, memory, ring, null);
    }

    /**
     * As {@link #load(ElfImage, GuestMemory, int)}, and when {@code iommu} is not null also writes the ACPI tables
     * that describe it ({@link AcpiTables}: RSDP, XSDT, DMAR) where the guest scans for them.
     *
     * @param iommu the machine's VT-d unit as the DMAR table describes it, or null for a machine without one
     * @throws ImageException if a segment lies outside guest RAM or over the boot area, or RAM misses the ACPI area
     */
    public static BootCpuState load(final ElfImage image, final GuestMemory memory, final int ring,
                                    final AcpiTables.Dmar iommu) {
        for (ElfImage.Segment segment : image.segments()) {
            checkPlacement(segment, memory);
        }
        for (ElfImage.Segment segment : image.segments()) {
            memory.writeBytes(segment.gpa(), image.fileBytes(segment));
            final long zeroBytes = segment.memoryBytes() - segment.fileBytes();
            if (zeroBytes > 0) {
                memory.translate(segment.gpa() + segment.fileBytes(), zeroBytes, AccessMode.WRITE).fill((byte) 0);
            }
        }
        BootCpuState state = BootTables.write(memory, image.entryGva(), ring);
        if (image.vectorTableGva() != 0) {
            BootTables.writeIdt(memory, vectorTable(image, memory), state.code().selector());
            if (ring == 3) {
                state = state.withInterruptsEnabled();
            }
        }
        if (iommu != null) {
            AcpiTables.write(memory, iommu);
        }
        return state;
    }

    /** @return the 256 entry points the image lists, each checked to lie in one of its executable segments */
    private static long[] vectorTable(final ElfImage image, final GuestMemory memory) {
        final long tableGva = image.vectorTableGva();
        final long tableBytes = 256L * 8;
        if (image.segments().stream().noneMatch(s -> tableGva >= s.gpa() && tableGva <= s.endGpa() - tableBytes)) {
            throw new ImageException(String.format("interrupt entry table at 0x%x is not inside a segment", tableGva));
        }
        final long[] entries = new long[256];
        for (int vector = 0; vector < 256; vector++) {
            final long entry = memory.getLong(tableGva + 8L * vector);
            if (image.segments().stream().noneMatch(s -> s.executable() && entry >= s.gpa() && entry < s.endGpa())) {
                throw new ImageException(String.format("interrupt entry %d at 0x%x is not in an executable segment",
                        vector, entry));
            }
            entries[vector] = entry;
        }
        return entries;
    }

    private static void checkPlacement(final ElfImage.Segment segment, final GuestMemory memory) {
        if (segment.gpa() < BootTables.IMAGE_MIN_GPA) {
            throw new ImageException(String.format("segment at 0x%x lies below 0x%x, in the boot area", segment.gpa(),
                    BootTables.IMAGE_MIN_GPA));
        }
        final GuestMemoryRegion region = memory.regionAt(segment.gpa());
        if (region == null || segment.endGpa() > region.endGpa() || segment.endGpa() > BootTables.MAPPED_BYTES) {
            throw new ImageException(String.format("segment [0x%x, 0x%x) lies outside guest memory (%d MiB)",
                    segment.gpa(), segment.endGpa(), memory.totalBytes() >> 20));
        }
    }
}

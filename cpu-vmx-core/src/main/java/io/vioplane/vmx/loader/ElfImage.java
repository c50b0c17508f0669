package io.vioplane.vmx.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A guest image: an ELF64 x86-64 executable (System V gABI, "ELF Header" and "Program Header"; x86-64 psABI),
 * checked field by field and reduced to what the loader needs: loadable segments at guest-physical addresses, the
 * 64-bit entry point, the PVH entry (Xen {@code XEN_ELFNOTE_PHYS32_ENTRY}, note type 18) and the interrupt entry
 * table (note "vioplane", type 1: the address of 256 u64 entry points) if present.
 *
 * <p>Every field read from the file is checked before use: class, byte order, machine, type, program headers
 * inside the file, each segment's file bytes inside the file, file size not above memory size, virtual address
 * equal to physical address (guests are identity-mapped), no address wrap, no two segments overlapping, and an
 * entry point inside an executable segment.
 */
public final class ElfImage {
    private static final int EHDR_BYTES = 64;
    private static final int PHDR_BYTES = 56;
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int PF_X = 1;
    private static final int MAX_PROGRAM_HEADERS = 64;
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    private static final int VIOPLANE_NOTE_VECTOR_TABLE = 1;
    private static final int NOTE_NAME_XEN = 0x006E6558;

    /** A loadable segment: {@code fileBytes} from the file, then zeros up to {@code memoryBytes}. */
    public record Segment(long gpa, long fileOffset, long fileBytes, long memoryBytes, boolean executable) {
        /** @return the first address after the segment */
        public long endGpa() {
            return gpa + memoryBytes;
        }
    }

    private final byte[] file;
    private final long entryGva;
    private final long pvhEntryGpa;
    private final long vectorTableGva;
    private final List<Segment> segments;

    private ElfImage(final byte[] file, final long entryGva, final long pvhEntryGpa, final long vectorTableGva,
                     final List<Segment> segments) {
        this.file = file;
        this.entryGva = entryGva;
        this.pvhEntryGpa = pvhEntryGpa;
        this.vectorTableGva = vectorTableGva;
        this.segments = segments;
    }

    /** The two notes the loaders read. */
    private static final class Notes {
        long pvhEntryGpa;
        long vectorTableGva;
    }

    /**
     * Parses and checks {@code file}.
     *
     * @throws ImageException with a one-line reason
     */
    public static ElfImage parse(final byte[] file) {
        final ByteBuffer elf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (file.length < 16 || elf.getInt(0) != 0x464C457F) {
            throw new ImageException("not an ELF file (no \\x7fELF magic)");
        }
        if (file[4] != ELFCLASS64) {
            throw new ImageException("not ELF64 (EI_CLASS " + file[4] + ")");
        }
        if (file[5] != ELFDATA2LSB) {
            throw new ImageException("not little-endian (EI_DATA " + file[5] + ")");
        }
        if (file.length < EHDR_BYTES) {
            throw new ImageException("ELF header truncated: " + file.length + " bytes");
        }
        final int type = elf.getShort(16) & 0xFFFF;
        final int machine = elf.getShort(18) & 0xFFFF;
        if (machine != EM_X86_64) {
            throw new ImageException("not an x86-64 image (e_machine " + machine + ")");
        }
        if (type != ET_EXEC) {
            throw new ImageException("not an executable (e_type " + type + "): link it statically at fixed addresses");
        }
        final long entry = elf.getLong(24);
        final long phoff = elf.getLong(32);
        final int phentsize = elf.getShort(54) & 0xFFFF;
        final int phnum = elf.getShort(56) & 0xFFFF;
        if (phentsize != PHDR_BYTES) {
            throw new ImageException("program header size " + phentsize + ", expected " + PHDR_BYTES);
        }
        if (phnum == 0 || phnum > MAX_PROGRAM_HEADERS) {
            throw new ImageException("program header count " + phnum + " (1-" + MAX_PROGRAM_HEADERS + " accepted)");
        }
        if (phoff < 0 || phoff > file.length || (long) phnum * PHDR_BYTES > file.length - phoff) {
            throw new ImageException("program headers lie outside the file");
        }
        final List<Segment> segments = new ArrayList<>();
        final Notes notes = new Notes();
        for (int i = 0; i < phnum; i++) {
            final int at = (int) (phoff + (long) i * PHDR_BYTES);
            final int ptype = elf.getInt(at);
            final long offset = elf.getLong(at + 8);
            final long vaddr = elf.getLong(at + 16);
            final long paddr = elf.getLong(at + 24);
            final long filesz = elf.getLong(at + 32);
            final long memsz = elf.getLong(at + 40);
            if (ptype != PT_LOAD && ptype != PT_NOTE) {
                continue;
            }
            if (offset < 0 || filesz < 0 || offset > file.length || filesz > file.length - offset) {
                throw new ImageException("segment " + i + " file bytes lie outside the file");
            }
            if (ptype == PT_NOTE) {
                readNotes(elf, (int) offset, (int) filesz, notes);
                continue;
            }
            if (memsz == 0) {
                continue;
            }
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw new ImageException("segment " + i + " has more file bytes (" + filesz + ") than memory bytes ("
                        + memsz + ")");
            }
            if (vaddr != paddr) {
                throw new ImageException(String.format("segment %d virtual address 0x%x differs from its physical "
                        + "address 0x%x (guests are identity-mapped)", i, vaddr, paddr));
            }
            if (paddr < 0 || memsz < 0 || paddr + memsz < paddr) {
                throw new ImageException(String.format("segment %d at 0x%x+0x%x wraps", i, paddr, memsz));
            }
            segments.add(new Segment(paddr, offset, filesz, memsz, (elf.getInt(at + 4) & PF_X) != 0));
        }
        if (segments.isEmpty()) {
            throw new ImageException("no loadable segment");
        }
        segments.sort(Comparator.comparingLong(Segment::gpa));
        for (int i = 1; i < segments.size(); i++) {
            final Segment previous = segments.get(i - 1);
            final Segment current = segments.get(i);
            if (current.gpa() < previous.endGpa()) {
                throw new ImageException(String.format("segments overlap: [0x%x, 0x%x) and [0x%x, 0x%x)",
                        previous.gpa(), previous.endGpa(), current.gpa(), current.endGpa()));
            }
        }
        if (segments.stream().noneMatch(s -> s.executable() && entry >= s.gpa() && entry < s.endGpa())) {
            throw new ImageException(String.format("entry point 0x%x is not inside an executable segment", entry));
        }
        return new ElfImage(file, entry, notes.pvhEntryGpa, notes.vectorTableGva, List.copyOf(segments));
    }

    private static void readNotes(final ByteBuffer elf, final int start, final int lengthBytes, final Notes notes) {
        int at = start;
        final int end = start + lengthBytes;
        while (end - at >= 12) {
            final long nameBytes = elf.getInt(at) & 0xFFFF_FFFFL;
            final long descBytes = elf.getInt(at + 4) & 0xFFFF_FFFFL;
            final int noteType = elf.getInt(at + 8);
            final long nameStart = at + 12L;
            final long descStart = nameStart + align4(nameBytes);
            final long next = descStart + align4(descBytes);
            if (next > end) {
                throw new ImageException("ELF note runs past its segment");
            }
            if (noteType == XEN_ELFNOTE_PHYS32_ENTRY && nameBytes == 4 && elf.getInt((int) nameStart) == NOTE_NAME_XEN
                    && descBytes >= 4) {
                notes.pvhEntryGpa = elf.getInt((int) descStart) & 0xFFFF_FFFFL;
            } else if (noteType == VIOPLANE_NOTE_VECTOR_TABLE && nameBytes == 9 && descBytes == 8
                    && "vioplane".equals(new String(elf.array(), (int) nameStart, 8, StandardCharsets.US_ASCII))) {
                notes.vectorTableGva = elf.getLong((int) descStart);
            }
            at = (int) next;
        }
    }

    private static long align4(final long value) {
        return (value + 3) & ~3L;
    }

    /** @return the 64-bit entry point (identity-mapped: also its GPA) */
    public long entryGva() {
        return entryGva;
    }

    /** @return the PVH 32-bit entry, or 0 when the image has no XEN_ELFNOTE_PHYS32_ENTRY note */
    public long pvhEntryGpa() {
        return pvhEntryGpa;
    }

    /**
     * @return the address of the image's 256 interrupt entry points (vioplane note type 1), or 0 when the image
     *         brings no handlers
     */
    public long vectorTableGva() {
        return vectorTableGva;
    }

    /** @return the loadable segments in address order */
    public List<Segment> segments() {
        return segments;
    }

    /** @return the image bytes of {@code segment} */
    byte[] fileBytes(final Segment segment) {
        final byte[] bytes = new byte[(int) segment.fileBytes()];
        System.arraycopy(file, (int) segment.fileOffset(), bytes, 0, bytes.length);
        return bytes;
    }
}

package io.vioplane.vmx.loader;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.cpu.Segment;

/**
 * The x86-64 structures a guest image starts with, written into low guest memory by the VMM (Intel SDM Vol. 3:
 * 3.4.5 segment descriptors, 4.5 4-level paging, 6.14 64-bit IDT, 8.7 64-bit TSS, 10.8.5 IA-32e initialization):
 *
 * <pre>
 *   0x1000 GDT: 0x10 code ring 0, 0x18 data ring 0, 0x28 data ring 3 (selector 0x2b), 0x30 code ring 3 (0x33),
 *               0x40 64-bit TSS
 *   0x2000 IDT: 256 gates to the image's entry points when it lists them ({@link #writeIdt}), else empty (an
 *               exception then escalates to a triple fault)
 *   0x3000 TSS: RSP0 = KERNEL_STACK_TOP
 *   0x8000 PML4, 0x9000 PDPT, 0xA000-0xDFFF four page directories: the low 4 GiB identity-mapped with 2 MiB
 *               pages, user-accessible, writable, uncached (PCD|PWT) from 3 GiB where the devices live
 *   0x70000 - 0xF0000 guest stack (top STACK_TOP), 0x60000 - 0x70000 ring-0 stack
 *   0xF0000 - 0xFFFFF ACPI tables (RSDP at 0xF0000, XSDT, DMAR) when the machine has a VT-d unit
 *               ({@link AcpiTables}; written by {@link ImageLoader}, not here)
 *   0x100000 and up: the image
 * </pre>
 */
public final class BootTables {
    public static final long GDT_GPA = 0x1000;
    public static final long IDT_GPA = 0x2000;
    public static final long TSS_GPA = 0x3000;
    public static final long PML4_GPA = 0x8000;
    public static final long PDPT_GPA = 0x9000;
    public static final long PD_GPA = 0xA000;
    public static final long KERNEL_STACK_TOP = 0x70000;
    public static final long STACK_TOP = 0xF0000;
    /** Images load from here up; everything below belongs to the boot structures. */
    public static final long IMAGE_MIN_GPA = 0x100000;
    /** Page-table coverage: guest addresses above this are not mapped. */
    public static final long MAPPED_BYTES = 4L << 30;

    public static final int KERNEL_CODE = 0x10;
    public static final int KERNEL_DATA = 0x18;
    public static final int USER_DATA = 0x2b;
    public static final int USER_CODE = 0x33;
    public static final int TASK_STATE = 0x40;

    private static final long TSS_LIMIT = 0x67;
    private static final long CR0_PE_MP_ET_NE_WP_AM_PG = 0x80050033L;
    private static final long CR4_PAE_OSFXSR_OSXMMEXCPT = 0x620;
    private static final long EFER_SCE_LME_LMA_NXE = 0xD01;
    private static final long RFLAGS_RESERVED = 0x2;
    private static final long PRESENT_WRITABLE_USER = 0x7;
    private static final long LARGE_PAGE = 0x80;
    private static final long UNCACHED = 0x18;
    private static final long DEVICE_SPACE_GPA = 3L << 30;
    private static final long LARGE_PAGE_BYTES = 2L << 20;

    private BootTables() {
    }

    /**
     * Writes the tables into {@code memory} and returns the CPU state that enters {@code entryGva} at privilege
     * {@code ring}.
     */
    public static BootCpuState write(final GuestMemory memory, final long entryGva, final int ring) {
        if (ring != 0 && ring != 3) {
            throw new IllegalArgumentException("ring must be 0 or 3: " + ring);
        }
        writeGdt(memory);
        memory.writeBytes(IDT_GPA, new byte[4096]);
        memory.writeBytes(TSS_GPA, new byte[(int) TSS_LIMIT + 1]);
        memory.putLong(TSS_GPA + 4, KERNEL_STACK_TOP);
        writePageTables(memory);
        final Segment code = ring == 3 ? Segment.code64(USER_CODE, 3) : Segment.code64(KERNEL_CODE, 0);
        final Segment data = ring == 3 ? Segment.data(USER_DATA, 3) : Segment.data(KERNEL_DATA, 0);
        return new BootCpuState(entryGva, STACK_TOP, RFLAGS_RESERVED, CR0_PE_MP_ET_NE_WP_AM_PG, PML4_GPA,
                CR4_PAE_OSFXSR_OSXMMEXCPT, EFER_SCE_LME_LMA_NXE, GDT_GPA, (int) (TASK_STATE + 16 - 1), IDT_GPA,
                256 * 16 - 1, code, data, Segment.tss(TASK_STATE, TSS_GPA, (int) TSS_LIMIT), ring);
    }

    /**
     * Writes 256 present 64-bit interrupt gates (SDM Vol. 3, Figure 6-8: type 0xE, DPL 3 so that {@code int3}
     * works from ring 3) to {@code entries}, through code selector {@code codeSelector}: the guest's own ring, so a
     * handler for a ring-3 guest runs in ring 3 with no stack switch.
     */
    public static void writeIdt(final GuestMemory memory, final long[] entries, final int codeSelector) {
        for (int vector = 0; vector < 256; vector++) {
            final long offset = entries[vector];
            memory.putLong(IDT_GPA + 16L * vector, gateLow(offset, codeSelector));
            memory.putLong(IDT_GPA + 16L * vector + 8, offset >>> 32);
        }
    }

    static long gateLow(final long offset, final int codeSelector) {
        final long presentDpl3InterruptGate = 0xEEL;
        return (offset & 0xFFFF) | ((long) (codeSelector & ~3) << 16) | (presentDpl3InterruptGate << 40)
                | (((offset >>> 16) & 0xFFFF) << 48);
    }

    private static void writeGdt(final GuestMemory memory) {
        memory.writeBytes(GDT_GPA, new byte[(int) TASK_STATE + 16]);
        memory.putLong(GDT_GPA + KERNEL_CODE, 0x00AF9B000000FFFFL);
        memory.putLong(GDT_GPA + KERNEL_DATA, 0x00CF93000000FFFFL);
        memory.putLong(GDT_GPA + (USER_DATA & ~3), 0x00CFF3000000FFFFL);
        memory.putLong(GDT_GPA + (USER_CODE & ~3), 0x00AFFB000000FFFFL);
        memory.putLong(GDT_GPA + TASK_STATE, tssDescriptorLow(TSS_GPA, TSS_LIMIT));
        memory.putLong(GDT_GPA + TASK_STATE + 8, TSS_GPA >>> 32);
    }

    /** SDM Vol. 3, Figure 8-4: a present, busy 64-bit TSS descriptor (type 0xB), DPL 0. */
    static long tssDescriptorLow(final long base, final long limit) {
        return (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x8BL << 40) | (((limit >>> 16) & 0xF) << 48)
                | (((base >>> 24) & 0xFF) << 56);
    }

    private static void writePageTables(final GuestMemory memory) {
        memory.writeBytes(PML4_GPA, new byte[4096 * 6]);
        memory.putLong(PML4_GPA, PDPT_GPA | PRESENT_WRITABLE_USER);
        for (int i = 0; i < 4; i++) {
            memory.putLong(PDPT_GPA + 8L * i, (PD_GPA + 4096L * i) | PRESENT_WRITABLE_USER);
        }
        for (long gpa = 0; gpa < MAPPED_BYTES; gpa += LARGE_PAGE_BYTES) {
            final long flags = PRESENT_WRITABLE_USER | LARGE_PAGE | (gpa >= DEVICE_SPACE_GPA ? UNCACHED : 0);
            memory.putLong(PD_GPA + 8 * (gpa / LARGE_PAGE_BYTES), gpa | flags);
        }
    }
}

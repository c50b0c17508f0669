package io.vioplane.vmx.kvm;

import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.cpu.Segment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Flyweight over {@code struct kvm_sregs} (312 bytes, {@code arch/x86/include/uapi/asm/kvm.h}):
 *
 * <pre>
 *     0 kvm_segment cs, ds, es, fs, gs, ss, tr, ldt   (24 bytes each: u64 base, u32 limit, u16 selector,
 *                                                        u8 type, present, dpl, db, s, l, g, avl, unusable, pad)
 *   192 kvm_dtable gdt, idt                          (16 bytes each: u64 base, u16 limit, u16 pad[3])
 *   224 u64 cr0, cr2, cr3, cr4, cr8, efer, apic_base
 *   280 u64 interrupt_bitmap[4]
 * </pre>
 */
public final class KvmSregs {
    public static final long BYTES = 312;
    private static final long CS = 0;
    private static final long DS = 24;
    private static final long ES = 48;
    private static final long FS = 72;
    private static final long GS = 96;
    private static final long SS = 120;
    private static final long TR = 144;
    private static final long LDT = 168;
    private static final long GDT = 192;
    private static final long IDT = 208;
    private static final long CR0 = 224;
    private static final long CR3 = 240;
    private static final long CR4 = 248;
    private static final long EFER = 264;

    private final MemorySegment sregs;

    /** @param sregs at least {@link #BYTES}, filled by KVM_GET_SREGS before the fields are changed */
    public KvmSregs(final MemorySegment sregs) {
        this.sregs = sregs;
    }

    /** Writes {@code state}'s control registers, descriptor tables and segments. */
    public void apply(final BootCpuState state) {
        segment(CS, state.code());
        for (long offset : new long[] {DS, ES, FS, GS, SS}) {
            segment(offset, state.data());
        }
        segment(TR, state.taskRegister());
        segment(LDT, Segment.noLdt());
        table(GDT, state.gdtBase(), state.gdtLimit());
        table(IDT, state.idtBase(), state.idtLimit());
        sregs.set(ValueLayout.JAVA_LONG_UNALIGNED, CR0, state.cr0());
        sregs.set(ValueLayout.JAVA_LONG_UNALIGNED, CR3, state.cr3());
        sregs.set(ValueLayout.JAVA_LONG_UNALIGNED, CR4, state.cr4());
        sregs.set(ValueLayout.JAVA_LONG_UNALIGNED, EFER, state.efer());
    }

    /** @return CS.selector's low two bits: the current privilege level */
    public int currentPrivilegeLevel() {
        return sregs.get(ValueLayout.JAVA_SHORT_UNALIGNED, CS + 12) & 3;
    }

    private void segment(final long offset, final Segment segment) {
        sregs.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, segment.base());
        sregs.set(ValueLayout.JAVA_INT_UNALIGNED, offset + 8, segment.limit());
        sregs.set(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 12, (short) segment.selector());
        final byte[] flags = {(byte) segment.type(), flag(segment.present()), (byte) segment.dpl(), flag(segment.big()),
            flag(!segment.system()), flag(segment.longMode()), flag(segment.granular()), 0, 0, 0};
        for (int i = 0; i < flags.length; i++) {
            sregs.set(ValueLayout.JAVA_BYTE, offset + 14 + i, flags[i]);
        }
    }

    private void table(final long offset, final long base, final int limit) {
        sregs.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, base);
        sregs.set(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 8, (short) limit);
    }

    private static byte flag(final boolean value) {
        return (byte) (value ? 1 : 0);
    }

}

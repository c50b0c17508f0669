package io.vioplane.vmx.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Flyweight over {@code struct kvm_regs} (144 bytes): u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8-r15, rip,
 * rflags, in that order.
 */
public final class KvmRegs {
    public static final long BYTES = 144;
    private static final long RDI = 5 * 8;
    private static final long RSP = 6 * 8;
    private static final long RIP = 16 * 8;
    private static final long RFLAGS = 17 * 8;

    private final MemorySegment regs;

    public KvmRegs(final MemorySegment regs) {
        this.regs = regs;
    }

    /** Zeroes every register, then sets the entry point, stack, flags and the first argument register. */
    public void reset(final long rip, final long rsp, final long rflags, final long rdi) {
        regs.asSlice(0, BYTES).fill((byte) 0);
        regs.set(ValueLayout.JAVA_LONG_UNALIGNED, RIP, rip);
        regs.set(ValueLayout.JAVA_LONG_UNALIGNED, RSP, rsp);
        regs.set(ValueLayout.JAVA_LONG_UNALIGNED, RFLAGS, rflags);
        regs.set(ValueLayout.JAVA_LONG_UNALIGNED, RDI, rdi);
    }

    public long rip() {
        return regs.get(ValueLayout.JAVA_LONG_UNALIGNED, RIP);
    }
}

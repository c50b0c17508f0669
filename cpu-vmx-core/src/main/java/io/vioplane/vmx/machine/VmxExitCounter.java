package io.vioplane.vmx.machine;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.vmx.exit.ExitReason;

/** The exits a machine counts, one per VT-x basic exit reason (Intel SDM Vol. 3, Appendix C) it can see. */
public enum VmxExitCounter implements CounterKind {
    EXCEPTION_OR_NMI(ExitReason.EXCEPTION_OR_NMI),
    EXTERNAL_INTERRUPT(ExitReason.EXTERNAL_INTERRUPT),
    TRIPLE_FAULT(ExitReason.TRIPLE_FAULT),
    INTERRUPT_WINDOW(ExitReason.INTERRUPT_WINDOW),
    CPUID(ExitReason.CPUID),
    HLT(ExitReason.HLT),
    VMCALL(ExitReason.VMCALL),
    CR_ACCESS(ExitReason.CR_ACCESS),
    IO_INSTRUCTION(ExitReason.IO_INSTRUCTION),
    RDMSR(ExitReason.RDMSR),
    WRMSR(ExitReason.WRMSR),
    ENTRY_FAILURE_GUEST_STATE(ExitReason.ENTRY_FAILURE_GUEST_STATE),
    EPT_VIOLATION(ExitReason.EPT_VIOLATION),
    EPT_MISCONFIGURATION(ExitReason.EPT_MISCONFIGURATION),
    KVM_INTERNAL_ERROR(ExitReason.KVM_INTERNAL_ERROR),
    /** Any basic reason not listed above. */
    OTHER(-1);

    private static final VmxExitCounter[] BY_REASON = new VmxExitCounter[ExitReason.BASIC_REASON_LIMIT];

    static {
        java.util.Arrays.fill(BY_REASON, OTHER);
        for (VmxExitCounter counter : values()) {
            if (counter.reason >= 0 && counter.reason < ExitReason.BASIC_REASON_LIMIT) {
                BY_REASON[counter.reason] = counter;
            }
        }
    }

    private final int reason;
    private final String label;

    VmxExitCounter(final int reason) {
        this.reason = reason;
        this.label = reason < 0 ? "vmx exits: other reasons" : "vmx exits: " + ExitReason.name(reason) + " (" + reason
                + ")";
    }

    /** @return the counter of basic reason {@code reason} */
    public static VmxExitCounter of(final int reason) {
        if (reason == ExitReason.KVM_INTERNAL_ERROR) {
            return KVM_INTERNAL_ERROR;
        }
        return reason >= 0 && reason < ExitReason.BASIC_REASON_LIMIT ? BY_REASON[reason] : OTHER;
    }

    /** @return the basic reason counted, -1 for {@link #OTHER} */
    public int reason() {
        return reason;
    }

    @Override
    public String label() {
        return label;
    }
}

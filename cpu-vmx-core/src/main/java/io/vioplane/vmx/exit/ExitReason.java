package io.vioplane.vmx.exit;

/**
 * Basic VM-exit reasons, the numbers of Intel SDM Vol. 3, Appendix C ("VMX Basic Exit Reasons"), plus one
 * vioplane number for an outcome VT-x has no reason for.
 *
 * <p>{@link #KVM_INTERNAL_ERROR} lies above the 16-bit basic-reason field, so it can never be confused with a
 * hardware reason: KVM reports it when its own emulator gives up (KVM_EXIT_INTERNAL_ERROR).
 */
public final class ExitReason {
    public static final int EXCEPTION_OR_NMI = 0;
    public static final int EXTERNAL_INTERRUPT = 1;
    public static final int TRIPLE_FAULT = 2;
    public static final int INIT_SIGNAL = 3;
    public static final int INTERRUPT_WINDOW = 7;
    public static final int TASK_SWITCH = 9;
    public static final int CPUID = 10;
    public static final int HLT = 12;
    public static final int VMCALL = 18;
    public static final int CR_ACCESS = 28;
    public static final int IO_INSTRUCTION = 30;
    public static final int RDMSR = 31;
    public static final int WRMSR = 32;
    public static final int ENTRY_FAILURE_GUEST_STATE = 33;
    public static final int ENTRY_FAILURE_MSR_LOADING = 34;
    public static final int ENTRY_FAILURE_MACHINE_CHECK = 41;
    public static final int EPT_VIOLATION = 48;
    public static final int EPT_MISCONFIGURATION = 49;
    /** KVM's emulator could not continue (not a VT-x reason; vioplane's number). */
    public static final int KVM_INTERNAL_ERROR = 0x1_0000;

    /** Bit 31 of the exit-reason field: the exit is a VM-entry failure (SDM Vol. 3, 25.9.1 / 27.8). */
    public static final long ENTRY_FAILURE_BIT = 1L << 31;

    /** One more than the largest basic reason in the table: sizes per-reason arrays. */
    public static final int BASIC_REASON_LIMIT = 70;

    private ExitReason() {
    }

    /** @return the SDM's short name of basic reason {@code reason} */
    public static String name(final int reason) {
        return switch (reason) {
            case EXCEPTION_OR_NMI -> "exception-or-nmi";
            case EXTERNAL_INTERRUPT -> "external-interrupt";
            case TRIPLE_FAULT -> "triple-fault";
            case INIT_SIGNAL -> "init-signal";
            case INTERRUPT_WINDOW -> "interrupt-window";
            case TASK_SWITCH -> "task-switch";
            case CPUID -> "cpuid";
            case HLT -> "hlt";
            case VMCALL -> "vmcall";
            case CR_ACCESS -> "cr-access";
            case IO_INSTRUCTION -> "io-instruction";
            case RDMSR -> "rdmsr";
            case WRMSR -> "wrmsr";
            case ENTRY_FAILURE_GUEST_STATE -> "entry-failure-guest-state";
            case ENTRY_FAILURE_MSR_LOADING -> "entry-failure-msr-loading";
            case ENTRY_FAILURE_MACHINE_CHECK -> "entry-failure-machine-check";
            case EPT_VIOLATION -> "ept-violation";
            case EPT_MISCONFIGURATION -> "ept-misconfiguration";
            case KVM_INTERNAL_ERROR -> "kvm-internal-error";
            default -> "reason-" + reason;
        };
    }
}

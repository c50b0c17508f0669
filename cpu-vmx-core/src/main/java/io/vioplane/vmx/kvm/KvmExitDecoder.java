package io.vioplane.vmx.kvm;

import io.vioplane.vmx.exit.ExitQualification;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;

/**
 * Turns KVM's exit ({@code struct kvm_run}) into the VT-x exit it stands for (Intel SDM Vol. 3, Appendix C):
 *
 * <pre>
 *   KVM_EXIT_IO              -> 30 I/O instruction, qualification per Table 28-5
 *   KVM_EXIT_MMIO            -> 48 EPT violation on an unbacked GPA, qualification per Table 28-7
 *   KVM_EXIT_HLT             -> 12 HLT
 *   KVM_EXIT_SHUTDOWN        ->  2 triple fault
 *   KVM_EXIT_FAIL_ENTRY      -> VT-x: the hardware reason (it has bit 31 set), entry-failure bit set;
 *                               SVM (VMEXIT_INVALID, all ones) or a VT-x VM-instruction error (no bit 31):
 *                               33 entry failure for invalid guest state, the raw value in the detail
 *   KVM_EXIT_INTR            ->  1 external interrupt (a signal: the watchdog's kick)
 *   KVM_EXIT_EXCEPTION/DEBUG ->  0 exception or NMI
 *   KVM_EXIT_HYPERCALL       -> 18 VMCALL
 *   KVM_EXIT_IRQ_WINDOW_OPEN ->  7 interrupt window
 *   KVM_EXIT_UNKNOWN         -> the hardware exit reason KVM passed on
 *   KVM_EXIT_INTERNAL_ERROR  -> vioplane's {@link ExitReason#KVM_INTERNAL_ERROR}, with the suberror
 * </pre>
 *
 * A malformed access (MMIO length not 1-8, port access size not 1/2/4, I/O data outside the page) decodes to a
 * KVM internal error with a negative detail rather than an access a device would act on.
 */
public final class KvmExitDecoder {
    /** Detail of a KVM internal error the decoder made up because the exit fields were malformed. */
    public static final int MALFORMED_ACCESS = -1;
    /** Detail of an exit reason this decoder does not know. */
    public static final int UNKNOWN_KVM_EXIT = -2;

    /** Bits 27-29 of the VT-x exit-reason field (enclave, pending MTF, exit from VMX root): SDM Vol. 3, 25.9.1. */
    private static final long VMX_REASON_FLAG_BITS = 0x3800_0000L;

    private KvmExitDecoder() {
    }

    /** @return the VT-x exit for what KVM wrote into {@code run} */
    public static VmExit decode(final KvmRunPage run) {
        final int kvmReason = run.exitReason();
        return switch (kvmReason) {
            case KvmRunPage.EXIT_IO -> io(run);
            case KvmRunPage.EXIT_MMIO -> mmio(run);
            case KvmRunPage.EXIT_HLT -> VmExit.of(ExitReason.HLT);
            case KvmRunPage.EXIT_SHUTDOWN -> VmExit.of(ExitReason.TRIPLE_FAULT);
            case KvmRunPage.EXIT_FAIL_ENTRY -> failedEntry(run.unionLong());
            case KvmRunPage.EXIT_INTR -> VmExit.of(ExitReason.EXTERNAL_INTERRUPT);
            case KvmRunPage.EXIT_EXCEPTION, KvmRunPage.EXIT_DEBUG -> VmExit.of(ExitReason.EXCEPTION_OR_NMI);
            case KvmRunPage.EXIT_HYPERCALL -> VmExit.of(ExitReason.VMCALL);
            case KvmRunPage.EXIT_IRQ_WINDOW_OPEN -> VmExit.of(ExitReason.INTERRUPT_WINDOW);
            case KvmRunPage.EXIT_UNKNOWN -> VmExit.of((int) (run.unionLong() & 0xFFFF));
            case KvmRunPage.EXIT_INTERNAL_ERROR -> VmExit.kvmInternalError(run.unionInt());
            default -> new VmExit(ExitReason.KVM_INTERNAL_ERROR, false, 0, 0, 0, 0, 0, false, 0,
                    ((long) kvmReason << 32) | (UNKNOWN_KVM_EXIT & 0xFFFF_FFFFL));
        };
    }

    /**
     * KVM passes on what the hardware said. On VT-x a failed VM entry is an exit reason with bit 31 set (SDM Vol. 3,
     * 27.8, e.g. 0x80000021); KVM also reports VMLAUNCH/VMRESUME failing with a VM-instruction error number (SDM
     * Vol. 3, 31.4, no bit 31). On SVM it is VMEXIT_INVALID, -1 (AMD APM Vol. 2, 15.5.1: VMRUN's consistency
     * checks on the guest state failed), which would otherwise read as basic reason 65535.
     */
    private static VmExit failedEntry(final long hardwareReason) {
        final long vmxReasonBits = ExitReason.ENTRY_FAILURE_BIT | VMX_REASON_FLAG_BITS | 0xFFFF;
        if ((hardwareReason & ExitReason.ENTRY_FAILURE_BIT) != 0 && (hardwareReason & ~vmxReasonBits) == 0
                && (hardwareReason & 0xFFFF) < ExitReason.BASIC_REASON_LIMIT) {
            return VmExit.entryFailure(hardwareReason);
        }
        return new VmExit(ExitReason.ENTRY_FAILURE_GUEST_STATE, true, 0, 0, 0, 0, 0, false, 0, hardwareReason);
    }

    private static VmExit io(final KvmRunPage run) {
        final int sizeBytes = run.ioSizeBytes();
        final int count = run.ioCount();
        if (sizeBytes != 1 && sizeBytes != 2 && sizeBytes != 4 || count < 1) {
            return VmExit.kvmInternalError(MALFORMED_ACCESS);
        }
        final long dataOffset = run.ioDataOffset(sizeBytes, count);
        if (dataOffset < 0) {
            return VmExit.kvmInternalError(MALFORMED_ACCESS);
        }
        final boolean write = run.ioOut();
        final int port = run.ioPort();
        final long value = write ? run.readData(dataOffset, sizeBytes) : 0;
        final long qualification = ExitQualification.io(port, sizeBytes, !write, count > 1, count > 1, false);
        return new VmExit(ExitReason.IO_INSTRUCTION, false, qualification, 0, 0, port, sizeBytes, write, value,
                count);
    }

    private static VmExit mmio(final KvmRunPage run) {
        final int lengthBytes = run.mmioLengthBytes();
        if (lengthBytes != 1 && lengthBytes != 2 && lengthBytes != 4 && lengthBytes != 8) {
            return VmExit.kvmInternalError(MALFORMED_ACCESS);
        }
        final boolean write = run.mmioWrite();
        final long gpa = run.mmioGpa();
        final long value = write ? run.readData(run.mmioDataOffset(), lengthBytes) : 0;
        return VmExit.mmio(gpa, lengthBytes, write, value);
    }
}

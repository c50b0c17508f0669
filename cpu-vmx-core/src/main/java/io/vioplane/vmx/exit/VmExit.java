package io.vioplane.vmx.exit;

/**
 * One VM exit, in VT-x terms (Intel SDM Vol. 3, 28.2 "Recording VM-Exit Information"): what every vCPU backend
 * produces, so that the machine, its counters and its tests do not care which backend ran the guest.
 *
 * <p>The decoded access flattens what a device needs: the port or guest-physical address, the size, the
 * direction and, for a write, the value (for a read the device supplies it). Backends that do not know a
 * field leave it 0: KVM completes the faulting instruction itself, so it never reports
 * {@code instructionLengthBytes}.
 *
 * @param reason                 basic exit reason ({@link ExitReason})
 * @param entryFailure           bit 31 of the exit-reason field: VM entry failed
 * @param qualification          exit qualification, encoded as {@link ExitQualification} says for the reason
 * @param gpa                    guest-physical address (EPT violation and misconfiguration), else 0
 * @param instructionLengthBytes VM-exit instruction length, 0 when the backend does not report it
 * @param accessAddress          port (I/O) or guest-physical address (MMIO) of the access
 * @param accessSizeBytes        access size in bytes, 0 when the exit is not an access
 * @param accessWrite            the guest wrote (OUT, MMIO store)
 * @param accessValue            the value written, little-endian, for a write
 * @param detail                 backend detail: KVM's internal-error suberror, the hardware entry-failure reason,
 *                               the repeat count of an I/O exit
 */
public record VmExit(int reason, boolean entryFailure, long qualification, long gpa, int instructionLengthBytes,
                     long accessAddress, int accessSizeBytes, boolean accessWrite, long accessValue, long detail) {

    /** @return an I/O-instruction exit (reason 30) for one IN or OUT */
    public static VmExit io(final int port, final int sizeBytes, final boolean write, final long value) {
        return new VmExit(ExitReason.IO_INSTRUCTION, false,
                ExitQualification.io(port, sizeBytes, !write, false, false, false), 0, 0, port, sizeBytes, write,
                value, 0);
    }

    /** @return an EPT-violation exit (reason 48) for a data access to an unbacked guest-physical address */
    public static VmExit mmio(final long gpa, final int sizeBytes, final boolean write, final long value) {
        return new VmExit(ExitReason.EPT_VIOLATION, false, ExitQualification.eptViolation(write, false, false), gpa, 0,
                gpa, sizeBytes, write, value, 0);
    }

    /** @return an exit that carries no access: HLT, triple fault, external interrupt */
    public static VmExit of(final int reason) {
        return new VmExit(reason, false, 0, 0, 0, 0, 0, false, 0, 0);
    }

    /** @return a failed VM entry with the hardware's exit reason (bit 31 set) */
    public static VmExit entryFailure(final long hardwareReason) {
        return new VmExit((int) (hardwareReason & 0xFFFF), true, 0, 0, 0, 0, 0, false, 0, hardwareReason);
    }

    /** @return KVM's emulator gave up, with its suberror */
    public static VmExit kvmInternalError(final int suberror) {
        return new VmExit(ExitReason.KVM_INTERNAL_ERROR, false, 0, 0, 0, 0, 0, false, 0, suberror);
    }

    /** @return the SDM name of the reason, with "entry failure" when bit 31 was set */
    public String describe() {
        final String name = ExitReason.name(reason);
        final String access = accessSizeBytes == 0 ? ""
                : String.format(" %s %d bytes at 0x%x%s", accessWrite ? "write" : "read", accessSizeBytes,
                        accessAddress, accessWrite ? String.format(" value 0x%x", accessValue) : "");
        return (entryFailure ? "VM-entry failure " : "") + name + " (" + reason + ")" + access
                + (detail != 0 ? String.format(" detail 0x%x", detail) : "");
    }
}

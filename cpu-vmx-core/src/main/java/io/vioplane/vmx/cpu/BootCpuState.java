package io.vioplane.vmx.cpu;

/**
 * The register state a vCPU starts a guest image in: 64-bit mode, paging on, at the privilege the loader chose
 * (Intel SDM Vol. 3, 10.8.5 "Initializing IA-32e Mode", done for the guest by the VMM).
 *
 * @param ring 0 or 3: the privilege of {@code code}
 */
public record BootCpuState(long ripGva, long rspGva, long rflags, long cr0, long cr3, long cr4, long efer,
                           long gdtBase, int gdtLimit, long idtBase, int idtLimit, Segment code, Segment data,
                           Segment taskRegister, int ring) {
    /** RFLAGS.IF (SDM Vol. 1, 3.4.3.3): maskable interrupts are delivered. */
    public static final long RFLAGS_IF = 0x200;

    /** @return this state with RFLAGS.IF set, so that the guest takes maskable interrupts from its first instruction */
    public BootCpuState withInterruptsEnabled() {
        return new BootCpuState(ripGva, rspGva, rflags | RFLAGS_IF, cr0, cr3, cr4, efer, gdtBase, gdtLimit, idtBase,
                idtLimit, code, data, taskRegister, ring);
    }
}

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
}

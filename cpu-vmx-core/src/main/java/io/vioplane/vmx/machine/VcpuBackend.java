package io.vioplane.vmx.machine;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vmx.vcpu.Vcpu;

/**
 * Creates the vCPU a machine runs its guest on, over the machine's memory: KVM ({@code KvmBackend}) or, later,
 * the interpreter. Owns whatever it opened for that (the KVM VM) until closed.
 */
public interface VcpuBackend extends AutoCloseable {
    /** @return a vCPU that sees {@code memory} as guest-physical memory */
    Vcpu createVcpu(GuestMemory memory);

    /** @return the privilege level guest code runs at: 3 on kvm_pvm (ring 0 is emulated there), else 0 */
    int guestRing();

    @Override
    void close();
}

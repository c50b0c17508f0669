package io.vioplane.vmx.kvm;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.vcpu.Vcpu;

/**
 * Runs a machine's guest on /dev/kvm: one {@link KvmVm} with the machine's memory as memslots and one
 * {@link KvmVcpu}. Guest code runs in ring 3 on kvm_pvm (where ring 0 is emulated instruction by instruction,
 * KVM-PVM.md) and in ring 0 on VT-x or SVM.
 */
public final class KvmBackend implements VcpuBackend {
    private final boolean pvm = Kvm.isPvm();
    private KvmVm vm;

    @Override
    public Vcpu createVcpu(final GuestMemory memory) {
        if (vm != null) {
            throw new IllegalStateException("this backend already created its vCPU");
        }
        vm = KvmVm.create();
        vm.map(memory);
        return KvmVcpu.create(vm, 0);
    }

    @Override
    public int guestRing() {
        return pvm ? 3 : 0;
    }

    /** @return the VM, once {@link #createVcpu} ran */
    public KvmVm vm() {
        return vm;
    }

    @Override
    public void close() {
        if (vm != null) {
            vm.close();
        }
    }
}

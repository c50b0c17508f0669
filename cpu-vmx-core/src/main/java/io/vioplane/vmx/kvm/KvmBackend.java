package io.vioplane.vmx.kvm;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.vcpu.Vcpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a machine's guest on /dev/kvm: one {@link KvmVm} with the machine's memory as memslots and one
 * {@link KvmVcpu}. Guest code runs in ring 3 on kvm_pvm (where ring 0 is emulated instruction by instruction,
 * KVM-PVM.md) and in ring 0 on VT-x or SVM.
 */
public final class KvmBackend implements VcpuBackend {
    private final int guestRing;
    private KvmVm vm;
    private int statsFd = -1;
    private KvmStats stats;
    private Map<String, Long> finalStats = Map.of();
    private final List<KvmIrqLine> irqLines = new ArrayList<>();

    /** Guest code in the ring this host's KVM runs natively: 3 on kvm_pvm, 0 on VT-x or SVM. */
    public KvmBackend() {
        this(Kvm.isPvm() ? 3 : 0);
    }

    /**
     * Guest code in ring {@code guestRing} whatever KVM this is: ring 3 on VT-x or SVM sets the guest up exactly as
     * on kvm_pvm (user segments, DPL-3 gates, TSS stack), so hardware KVM can check that set-up too.
     *
     * @throws IllegalArgumentException unless {@code guestRing} is 0 or 3
     */
    public KvmBackend(final int guestRing) {
        if (guestRing != 0 && guestRing != 3) {
            throw new IllegalArgumentException("guest ring must be 0 or 3: " + guestRing);
        }
        this.guestRing = guestRing;
    }

    @Override
    public Vcpu createVcpu(final GuestMemory memory) {
        if (vm != null) {
            throw new IllegalStateException("this backend already created its vCPU");
        }
        vm = KvmVm.create();
        vm.map(memory);
        if (vm.has(Kvm.CAP_IRQCHIP)) {
            vm.createInterruptController();
        }
        synchronized (this) {
            for (KvmIrqLine line : irqLines) {
                line.connect(vm);
            }
        }
        final KvmVcpu vcpu = KvmVcpu.create(vm, 0);
        if (vm.has(Kvm.CAP_BINARY_STATS_FD)) {
            statsFd = vcpu.openStatsFd();
            stats = KvmStats.open(statsFd);
        }
        return vcpu;
    }

    /**
     * A legacy interrupt input (GSI 0-23, an IOAPIC pin of the in-kernel irqchip) for a device's INTx#; before the
     * vCPU exists, like the devices. The backend closes it with the VM.
     */
    public synchronized KvmIrqLine irqLine(final int gsi) {
        final KvmIrqLine line = new KvmIrqLine(gsi);
        irqLines.add(line);
        if (vm != null) {
            line.connect(vm);
        }
        return line;
    }

    /**
     * @return KVM's own statistics of the vCPU as they stood when the backend closed (empty before, or when KVM
     *         has no binary statistics)
     */
    public Map<String, Long> finalStats() {
        return finalStats;
    }

    /**
     * @return KVM's statistic {@code name} of the vCPU now (a pread of the stats descriptor: not for a data path),
     *         or -1 before the vCPU exists, when KVM has no binary statistics or no such statistic
     */
    public long statistic(final String name) {
        return statsFd < 0 ? -1 : stats.read(statsFd, name);
    }

    @Override
    public int guestRing() {
        return guestRing;
    }

    /** @return the VM, once {@link #createVcpu} ran */
    public KvmVm vm() {
        return vm;
    }

    @Override
    public void close() {
        if (statsFd >= 0) {
            try {
                finalStats = stats.readAll(statsFd);
            } finally {
                FileIo.closeQuietly(statsFd);
                statsFd = -1;
            }
        }
        for (KvmIrqLine line : irqLines) {
            line.close();
        }
        if (vm != null) {
            vm.close();
        }
    }
}

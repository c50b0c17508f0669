package io.vioplane.vmx.kvm;

import io.vioplane.platform.sys.Ioctl;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.vmx.machine.IrqLine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One legacy GSI of the in-kernel irqchip driven with KVM_IRQ_LINE_STATUS ({@code Documentation/virt/kvm/api.rst}
 * 4.25): GSIs 0-23 reach the IOAPIC pin of the same number through KVM's default routes. Made before the VM exists
 * (devices are wired while the machine is built); a level set before the VM is created is applied when it is
 * ({@link #connect}). Each line has its own ioctl argument, so lines of different devices never share memory; calls
 * are serialized per line.
 *
 * <p>Counts what the guest can see: assertions, and among them those KVM delivered ({@code status > 0}) rather than
 * coalesced or masked. Without an in-kernel irqchip (kvm_pvm without one) the line only counts.
 */
public final class KvmIrqLine implements IrqLine, AutoCloseable {
    private final int gsi;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment argument = arena.allocate(8, 4);
    private KvmVm vm;
    private boolean level;
    private long assertions;
    private long delivered;
    private boolean closed;

    KvmIrqLine(final int gsi) {
        if (gsi < 0 || gsi >= KvmMsiRoutes.IOAPIC_PINS) {
            throw new IllegalArgumentException("a legacy GSI is 0-" + (KvmMsiRoutes.IOAPIC_PINS - 1) + ": " + gsi);
        }
        this.gsi = gsi;
    }

    /** Binds the line to {@code kvmVm} once it exists, and drives the level set so far. */
    synchronized void connect(final KvmVm kvmVm) {
        this.vm = kvmVm.hasInterruptController() ? kvmVm : null;
        if (level && vm != null && !closed) {
            drive(true);
        }
    }

    @Override
    public synchronized void set(final boolean asserted) {
        if (asserted == level) {
            return;
        }
        level = asserted;
        if (asserted) {
            assertions++;
        }
        if (vm != null && !closed) {
            final int status = drive(asserted);
            if (asserted && status > 0) {
                delivered++;
            }
        }
    }

    private int drive(final boolean asserted) {
        argument.set(ValueLayout.JAVA_INT, 0, gsi);
        argument.set(ValueLayout.JAVA_INT, 4, asserted ? 1 : 0);
        Ioctl.invoke(vm.fd(), Kvm.IRQ_LINE_STATUS, argument, "KVM_IRQ_LINE_STATUS gsi " + gsi);
        return argument.get(ValueLayout.JAVA_INT, 0);
    }

    /** @return the GSI (IOAPIC pin) */
    public int gsi() {
        return gsi;
    }

    /** @return how many times the line was asserted */
    public synchronized long assertions() {
        return assertions;
    }

    /** @return assertions KVM reported as delivered to a vCPU (not coalesced, not masked) */
    public synchronized long delivered() {
        return delivered;
    }

    /** Stops driving KVM (its VM is being closed); the counts stay readable. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            vm = null;
            arena.close();
        }
    }
}

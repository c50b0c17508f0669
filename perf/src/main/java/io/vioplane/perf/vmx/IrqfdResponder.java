package io.vioplane.perf.vmx;

import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.vmx.kvm.KvmMsiRoutes;
import io.vioplane.vmx.kvm.KvmVm;

/**
 * The VMM side of exit_loop's irqfd phase, the way a vhost-style device thread answers a guest: the guest's kick
 * at {@link ExitLoopDevice#KICK_GPA} lands in an ioeventfd (KVM API, 4.59 KVM_IOEVENTFD), a notifier thread blocked
 * in read(2) on that eventfd wakes and signals an irqfd (4.75 KVM_IRQFD) whose GSI is routed as an MSI to
 * {@link ExitLoopDevice#IRQ_VECTOR} (4.52 KVM_SET_GSI_ROUTING). minivmm.c does the same with a pthread.
 */
final class IrqfdResponder implements AutoCloseable {
    private final KvmVm vm;
    private final KvmMsiRoutes routes;
    private final EventFd kick;
    private final EventFd interrupt;
    private final Thread notifier;
    private volatile boolean stopping;
    private volatile Throwable failure;

    /** Routes the vector, claims the kick address and starts the notifier thread; before the guest runs. */
    IrqfdResponder(final KvmVm vm) {
        this.vm = vm;
        this.routes = new KvmMsiRoutes(vm, 1);
        this.interrupt = routes.route(0, new MsiMessage(MsiMessage.INTERRUPT_WINDOW_BASE, ExitLoopDevice.IRQ_VECTOR));
        this.kick = EventFd.create(0, EventFd.EFD_CLOEXEC);
        vm.assignIoEventFd(ExitLoopDevice.KICK_GPA, 4, kick.fd(), false, null);
        this.notifier = Thread.ofPlatform().name("exit_loop-irqfd-notifier").daemon().start(this::serve);
    }

    private void serve() {
        try {
            while (true) {
                kick.drain();
                if (stopping) {
                    return;
                }
                interrupt.signal();
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    /** @throws IllegalStateException if the notifier thread failed */
    void checkHealthy() {
        if (failure != null) {
            throw new IllegalStateException("irqfd notifier failed: " + failure.getMessage(), failure);
        }
    }

    @Override
    public void close() {
        stopping = true;
        kick.signal();
        try {
            notifier.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        vm.deassignIoEventFd(ExitLoopDevice.KICK_GPA, 4, kick.fd(), false, null);
        kick.close();
        routes.close();
    }
}

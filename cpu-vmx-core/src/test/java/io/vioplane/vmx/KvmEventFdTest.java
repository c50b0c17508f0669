package io.vioplane.vmx;

import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.vmx.kvm.KvmBackend;
import io.vioplane.vmx.kvm.KvmMsiRoutes;
import io.vioplane.vmx.kvm.KvmVm;
import io.vioplane.vmx.machine.RunOutcome;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.testkit.GuestImages;
import io.vioplane.vmx.vcpu.Vcpu;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The eventfd plumbing of the KVM backend against a real /dev/kvm ({@code Documentation/virt/kvm/api.rst} 4.59
 * KVM_IOEVENTFD, 4.52 KVM_SET_GSI_ROUTING, 4.75 KVM_IRQFD): KVM accepts the structures vioplane writes, and a
 * guest write that an ioeventfd claims signals the eventfd instead of leaving KVM.
 */
class KvmEventFdTest {
    private static final long MEMORY_BYTES = 64L << 20;
    /** Where unmapped_write.elf stores 0xdeadbeef (4 bytes). */
    private static final long UNCLAIMED_GPA = 0xC000_0000L;

    private final List<String> consoleLines = new ArrayList<>();
    private final GuestRun run = new GuestRun(MEMORY_BYTES, Counters.inMemory(128), consoleLines::add,
            ErrorLog.printingTo(System.err), Duration.ofSeconds(2));

    @BeforeEach
    void requireKvm() {
        Requirements.requireKvm();
    }

    @Test
    void ioEventFdTakesTheGuestsWriteWithoutAnExit() {
        try (EventFd doorbell = EventFd.create(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK)) {
            final VcpuBackend backend = afterVcpuCreated(new KvmBackend(),
                    vm -> vm.assignIoEventFd(UNCLAIMED_GPA, 4, doorbell.fd(), false, 0xDEADBEEFL));
            final RunOutcome outcome = run.run(GuestImages.require("unmapped_write"), backend);
            final String console = String.join("\n", consoleLines);
            assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending(), outcome.message() + "\n" + console);
            assertTrue(console.contains("the write returned"), console);
            assertEquals(1, doorbell.drain(), "the write signalled the eventfd once");
            assertEquals(0, outcome.fault() == null ? 0 : 1, "no fault: " + outcome.message());
        }
    }

    @Test
    void ioEventFdWithOtherDatamatchLetsTheWriteExitAsBefore() {
        try (EventFd doorbell = EventFd.create(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK)) {
            final VcpuBackend backend = afterVcpuCreated(new KvmBackend(),
                    vm -> vm.assignIoEventFd(UNCLAIMED_GPA, 4, doorbell.fd(), false, 0x1234L));
            final RunOutcome outcome = run.run(GuestImages.require("unmapped_write"), backend);
            assertEquals(RunOutcome.Ending.FAULT, outcome.ending(), outcome.message());
            assertEquals(UNCLAIMED_GPA, outcome.fault().gpa());
            assertEquals(0, doorbell.drain());
        }
    }

    @Test
    void kvmAcceptsMsiRoutesIrqFdsAndPortIoEventFds() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 2L << 20); KvmBackend kvm = new KvmBackend()) {
            try (Vcpu vcpu = kvm.createVcpu(memory)) {
                final KvmVm vm = kvm.vm();
                assertTrue(vm.hasInterruptController(), "KVM has an in-kernel irqchip (KVM_CAP_IRQCHIP)");
                try (KvmMsiRoutes routes = new KvmMsiRoutes(vm, 4)) {
                    final EventFd first = routes.route(0, new MsiMessage(MsiMessage.INTERRUPT_WINDOW_BASE, 0x41));
                    routes.route(3, new MsiMessage(MsiMessage.INTERRUPT_WINDOW_BASE, 0x42));
                    assertEquals(first, routes.route(0, new MsiMessage(MsiMessage.INTERRUPT_WINDOW_BASE, 0x43)),
                            "re-routing keeps the eventfd");
                    first.signal();
                }
                try (EventFd port = EventFd.create(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK)) {
                    vm.assignIoEventFd(0x510, 2, port.fd(), true, null);
                    vm.deassignIoEventFd(0x510, 2, port.fd(), true, null);
                }
                assertTrue(vm.has(Kvm.CAP_IOEVENTFD) && vm.has(Kvm.CAP_IRQFD));
            }
        }
    }

    /**
     * KVM_SET_GSI_ROUTING replaces the whole table: an MSI route must not cost GSIs 0-23 their default PIC/IOAPIC
     * routes, or legacy INTx stops reaching the in-kernel irqchip. Probed by lowering each line with
     * KVM_IRQ_LINE_STATUS: the IOAPIC answers 1 for a lowered line even on a masked pin (its reset state), while a
     * GSI without any route answers -1.
     */
    @Test
    void legacyGsisStillReachTheIrqchipAfterAnMsiRoute() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 2L << 20); KvmBackend kvm = new KvmBackend()) {
            try (Vcpu vcpu = kvm.createVcpu(memory)) {
                final KvmVm vm = kvm.vm();
                try (KvmMsiRoutes routes = new KvmMsiRoutes(vm, 2)) {
                    routes.route(0, new MsiMessage(MsiMessage.INTERRUPT_WINDOW_BASE, 0x41));
                    for (int gsi = 0; gsi < KvmMsiRoutes.IOAPIC_PINS; gsi++) {
                        final int status = vm.irqLine(gsi, false);
                        assertTrue(status >= 0, "GSI " + gsi + " has a route after an MSI route: status " + status);
                    }
                }
            }
        }
    }

    /** @return {@code backend}, with {@code setUp} run on its VM right after the vCPU exists (before the guest runs) */
    private static VcpuBackend afterVcpuCreated(final KvmBackend backend, final Consumer<KvmVm> setUp) {
        return new VcpuBackend() {
            @Override
            public Vcpu createVcpu(final GuestMemory memory) {
                final Vcpu vcpu = backend.createVcpu(memory);
                setUp.accept(backend.vm());
                return vcpu;
            }

            @Override
            public int guestRing() {
                return backend.guestRing();
            }

            @Override
            public void close() {
                backend.close();
            }
        };
    }
}

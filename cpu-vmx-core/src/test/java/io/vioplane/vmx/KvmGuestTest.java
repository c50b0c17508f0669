package io.vioplane.vmx;

import io.vioplane.iommu.VtdConfig;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.cpu.Segment;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.vcpu.Vcpu;
import io.vioplane.vmx.kvm.KvmBackend;
import io.vioplane.vmx.machine.RunOutcome;
import io.vioplane.vmx.testkit.GuestImages;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The project's guest programs on /dev/kvm (ring 3 on kvm_pvm; on VT-x/SVM both in ring 0 and in ring 3, the
 * kvm_pvm set-up): the well-behaved ones run to their result, each hostile one is stopped and reported by its
 * VT-x reason, and no descriptor is left open.
 */
class KvmGuestTest {
    private static final long MEMORY_BYTES = 64L << 20;

    private final List<String> consoleLines = new ArrayList<>();
    private final GuestRun run = new GuestRun(MEMORY_BYTES, Counters.inMemory(128), consoleLines::add,
            ErrorLog.printingTo(System.err), Duration.ofSeconds(2));

    @BeforeEach
    void requireKvm() {
        Requirements.requireKvm();
    }

    /** @return the rings to run guests in: 3 only on kvm_pvm (ring 0 is emulated there), else 0 and 3 */
    static IntStream rings() {
        return Kvm.isPvm() ? IntStream.of(3) : IntStream.of(0, 3);
    }

    private String console() {
        return String.join("\n", consoleLines);
    }

    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void helloRunsToItsResultLine(final int ring) {
        final KvmBackend backend = new KvmBackend(ring);
        final RunOutcome outcome = run.run(GuestImages.require("hello"), backend);
        assertTrue(outcome.succeeded(), outcome.message() + "\n" + console());
        assertEquals("fib(90)=2880067194370816120 primes<10000=1229", outcome.result());
        assertTrue(console().contains("hello from a vioplane guest"), console());
        final long mmioExits = outcome.exitsByReason().get(ExitReason.EPT_VIOLATION);
        assertTrue(mmioExits >= 4, outcome.exitsByReason().toString());
        final Map<String, Long> kvm = backend.finalStats();
        if (!kvm.isEmpty()) {
            assertEquals(mmioExits, kvm.get("mmio_exits"), "KVM's mmio_exits agrees with the VMM's count: " + kvm);
            assertTrue(kvm.get("exits") >= outcome.totalExits(), "KVM counts every exit, also those it handled");
        }
    }

    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void pciScanFindsTheHostBridgeThroughEcam(final int ring) {
        final RunOutcome outcome = run.run(GuestImages.require("pci_scan"), new KvmBackend(ring));
        assertTrue(outcome.succeeded(), outcome.message() + "\n" + console());
        assertEquals("pci functions=1 first=" + 0x00081B36L, outcome.result());
    }

    /** The same line QemuPvhBootTest's reference shows for q35's intel-iommu, but for vioplane's unit. */
    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void iommuProbeFindsTheMachinesUnitThroughTheDmarTable(final int ring) {
        final GuestRun withIommu = new GuestRun(MEMORY_BYTES, Counters.inMemory(128), consoleLines::add,
                ErrorLog.printingTo(System.err), Duration.ofSeconds(2), VtdConfig.standard());
        final RunOutcome outcome = withIommu.run(GuestImages.require("iommu_probe"), new KvmBackend(ring));
        assertTrue(outcome.succeeded(), outcome.message() + "\n" + console());
        assertEquals("iommu dmar haw=48 intr_remap=1 drhd=0xfed90000 segment=0 include_pci_all=1 ver=0x10 mgaw=48"
                + " sagaw=0x6 nfr=4 ecap_ir=1", outcome.result());
        assertTrue(console().contains("rsdp at 0x00000000000f0000"), console());
    }

    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void iommuProbeFindsNoRsdpOnAMachineWithoutAnIommu(final int ring) {
        final RunOutcome outcome = run.run(GuestImages.require("iommu_probe"), new KvmBackend(ring));
        assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending(), outcome.message());
        assertEquals(1, outcome.exitStatus());
        assertEquals("iommu none: no RSDP in 0xE0000-0xFFFFF", outcome.result());
    }

    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void exceptionsReachTheImagesOwnHandlersInItsRing(final int ring) {
        final RunOutcome outcome = run.run(GuestImages.require("interrupts"), new KvmBackend(ring));
        assertTrue(outcome.succeeded(), outcome.message() + "\n" + console());
        assertEquals("int3=3 ud=1", outcome.result());
    }

    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void tripleFaultIsReportedAsReasonTwo(final int ring) {
        final RunOutcome outcome = run.run(GuestImages.require("triple_fault"), new KvmBackend(ring));
        assertEquals(RunOutcome.Ending.FAULT, outcome.ending(), outcome.message());
        assertEquals(ExitReason.TRIPLE_FAULT, outcome.fault().reason(), outcome.message());
    }

    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void writeToUnclaimedAddressIsReportedAsEptViolation(final int ring) {
        final RunOutcome outcome = run.run(GuestImages.require("unmapped_write"), new KvmBackend(ring));
        assertEquals(RunOutcome.Ending.FAULT, outcome.ending(), outcome.message());
        assertEquals(ExitReason.EPT_VIOLATION, outcome.fault().reason());
        assertEquals(0xC000_0000L, outcome.fault().gpa());
        assertEquals(0xDEADBEEFL, outcome.fault().accessValue());
    }

    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void spinningGuestIsStoppedByTheWatchdog(final int ring) {
        final RunOutcome outcome = run.run(GuestImages.require("spin"), new KvmBackend(ring));
        assertEquals(RunOutcome.Ending.WATCHDOG, outcome.ending(), outcome.message());
        assertTrue(console().contains("spinning forever"), console());
    }

    /**
     * A 64-bit code segment with D set too (L=1, D=1 is reserved in IA-32e mode: SDM Vol. 3, 27.3.1.2; AMD APM Vol. 2,
     * 15.5.1 lists it among the VMRUN consistency checks): the hardware refuses the entry, and the VMM reports it as
     * an entry failure for invalid guest state.
     */
    @ParameterizedTest(name = "ring {0}")
    @MethodSource("rings")
    void invalidGuestStateIsReportedAsEntryFailure(final int ring) {
        Assumptions.assumeFalse(Kvm.isPvm(), "kvm_pvm checks guest state its own way (not measured yet)");
        final KvmBackend kvm = new KvmBackend(ring);
        final VcpuBackend backend = new VcpuBackend() {
            @Override
            public Vcpu createVcpu(final GuestMemory memory) {
                final Vcpu vcpu = kvm.createVcpu(memory);
                return new Vcpu() {
                    @Override
                    public void load(final BootCpuState state, final long firstArgument) {
                        final Segment code = state.code();
                        vcpu.load(new BootCpuState(state.ripGva(), state.rspGva(), state.rflags(), state.cr0(),
                                state.cr3(), state.cr4(), state.efer(), state.gdtBase(), state.gdtLimit(),
                                state.idtBase(), state.idtLimit(), new Segment(code.selector(), code.base(),
                                code.limit(), code.type(), code.system(), code.dpl(), code.present(), true, true,
                                code.granular()), state.data(), state.taskRegister(), state.ring()), firstArgument);
                    }

                    @Override
                    public VmExit run() {
                        return vcpu.run();
                    }

                    @Override
                    public void completeRead(final long value) {
                        vcpu.completeRead(value);
                    }

                    @Override
                    public void kick() {
                        vcpu.kick();
                    }

                    @Override
                    public void close() {
                        vcpu.close();
                    }
                };
            }

            @Override
            public int guestRing() {
                return kvm.guestRing();
            }

            @Override
            public void close() {
                kvm.close();
            }
        };
        final RunOutcome outcome = run.run(GuestImages.require("hello"), backend);
        assertEquals(RunOutcome.Ending.FAULT, outcome.ending(), outcome.message());
        assertTrue(outcome.fault().entryFailure(), outcome.message());
        assertEquals(ExitReason.ENTRY_FAILURE_GUEST_STATE, outcome.fault().reason(), outcome.message());
    }

    @Test
    void runsLeaveNoDescriptorOpen() throws Exception {
        final int before = GuestImages.openDescriptors();
        for (String guest : new String[] {"hello", "triple_fault", "unmapped_write", "spin"}) {
            run.run(GuestImages.require(guest), new KvmBackend());
        }
        assertEquals(before, GuestImages.openDescriptors());
    }
}

package io.vioplane.vmx.machine;

import io.vioplane.iommu.DmaFault;
import io.vioplane.iommu.FaultReason;
import io.vioplane.iommu.IommuCounter;
import io.vioplane.iommu.SourceId;
import io.vioplane.iommu.VtdConfig;
import io.vioplane.iommu.VtdRegisterFile;
import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.loader.BootTables;
import io.vioplane.vmx.testkit.ScriptedVcpu;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A machine's VT-d unit as the guest sees it: its register window on the MMIO bus at 0xFED90000 (VT-d 3.x section
 * 11.1), reached through the run loop's EPT-violation path from a scripted vCPU, and what it does with accesses the
 * register interface does not allow (section 11.2).
 */
class MachineIommuTest {
    private static final long MEMORY_BYTES = 8L << 20;
    private static final long BASE = VtdMmioDevice.BASE_GPA;
    private static final long ROOT_TABLE_GPA = 0x40_0000;

    private final Counters counters = Counters.inMemory(128);
    private final List<String> logLines = new ArrayList<>();
    private final ErrorLog log = ErrorLog.printingTo(logLines::add);

    private Machine machine(final ScriptedVcpu vcpu) {
        return new Machine("iommu", MEMORY_BYTES, vcpu, counters, line -> { }, log, Duration.ofSeconds(30));
    }

    private static BootCpuState boot(final Machine machine) {
        return BootTables.write(machine.memory(), BootTables.IMAGE_MIN_GPA, 3);
    }

    private static VmExit read(final int offset, final int sizeBytes) {
        return VmExit.mmio(BASE + offset, sizeBytes, false, 0);
    }

    private static VmExit write(final int offset, final int sizeBytes, final long value) {
        return VmExit.mmio(BASE + offset, sizeBytes, true, value);
    }

    private static VmExit exit() {
        return VmExit.mmio(DebugDevice.GPA + DebugDevice.EXIT, 4, true, 0);
    }

    @Test
    void aMachineWithAnIommuClaimsTheConventionalWindow() {
        try (Machine machine = machine(new ScriptedVcpu(List.of()))) {
            assertNull(machine.iommu());
            final VtdMmioDevice iommu = machine.attachIommu(VtdConfig.standard());
            assertEquals(iommu, machine.iommu());
            assertTrue(machine.mmio().ranges().contains(new AddressRange(0xFED9_0000L, 4096, "VT-d registers")),
                    machine.mmio().ranges().toString());
            assertEquals(0, iommu.registerPagesLog2(), "0x260 bytes of registers fit one page");
            assertThrows(IllegalStateException.class, () -> machine.attachIommu(VtdConfig.standard()));
        }
    }

    @Test
    void aLargeFaultRecordArrayGetsAWindowOfWholePowerOfTwoPages() {
        assertEquals(0, VtdMmioDevice.pagesLog2(0x260));
        assertEquals(0, VtdMmioDevice.pagesLog2(4096));
        assertEquals(1, VtdMmioDevice.pagesLog2(0x220 + 16 * 256));
        assertEquals(2, VtdMmioDevice.pagesLog2(3 * 4096));
        try (Machine machine = machine(new ScriptedVcpu(List.of()))) {
            assertEquals(8192, machine.attachIommu(new VtdConfig(48, 256)).windowBytes());
        }
    }

    @Test
    void guestReadsVersionAndCapabilitiesThroughTheBus() {
        final VtdConfig config = VtdConfig.standard();
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(read(VtdRegisterFile.VER, 4), read(VtdRegisterFile.CAP, 8),
                read(VtdRegisterFile.ECAP, 8), read(VtdRegisterFile.CAP + 4, 4), exit()));
        try (Machine machine = machine(vcpu)) {
            machine.attachIommu(config);
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending(), outcome.message());
            assertEquals(List.of((long) VtdConfig.VERSION, config.capability(), config.extendedCapability(),
                    config.capability() >>> 32), vcpu.completedReads());
            assertEquals(47, (config.capability() >>> 16) & 0x3F, "CAP.MGAW = 48 - 1");
        }
    }

    @Test
    void guestSetsTheRootTableAndEnablesTranslationThroughTheBus() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(
                write(VtdRegisterFile.RTADDR, 8, ROOT_TABLE_GPA),
                write(VtdRegisterFile.GCMD, 4, VtdRegisterFile.GCMD_SRTP),
                read(VtdRegisterFile.GSTS, 4),
                write(VtdRegisterFile.GCMD, 4, VtdRegisterFile.GCMD_TE),
                read(VtdRegisterFile.GSTS, 4),
                read(VtdRegisterFile.RTADDR, 8),
                exit()));
        try (Machine machine = machine(vcpu)) {
            final VtdMmioDevice iommu = machine.attachIommu(VtdConfig.standard());
            assertFalse(iommu.unit().translationEnabled());
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending(), outcome.message());
            final long rtps = VtdRegisterFile.GCMD_SRTP & 0xFFFF_FFFFL;
            final long tes = VtdRegisterFile.GCMD_TE & 0xFFFF_FFFFL;
            assertEquals(List.of(rtps, rtps | tes, ROOT_TABLE_GPA), vcpu.completedReads());
            assertTrue(iommu.unit().translationEnabled(), "GSTS.TES set: DMA is translated");
            assertEquals(0, iommu.unit().count(IommuCounter.REGISTER_MISUSE));
            assertEquals(7L, outcome.exitsByReason().get(io.vioplane.vmx.exit.ExitReason.EPT_VIOLATION));
        }
    }

    @Test
    void wrongSizedOrMisalignedAccessesAreCountedNeverThrown() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(
                read(VtdRegisterFile.VER, 1),
                read(VtdRegisterFile.GSTS, 2),
                write(VtdRegisterFile.GCMD, 1, 0xFF),
                read(VtdRegisterFile.VER + 2, 4),
                read(VtdRegisterFile.CAP + 4, 8),
                write(VtdRegisterFile.RTADDR + 4, 8, -1L),
                read(0xFF8, 8),
                write(0xFFC, 4, -1L),
                read(VtdRegisterFile.VER, 4),
                exit()));
        try (Machine machine = machine(vcpu)) {
            final VtdMmioDevice iommu = machine.attachIommu(VtdConfig.standard());
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending(), outcome.message());
            assertEquals(List.of(-1L, -1L, -1L, -1L, 0L, (long) VtdConfig.VERSION), vcpu.completedReads(),
                    "bad sizes read all ones; a reserved offset reads 0; the unit still answers afterwards");
            assertEquals(6, iommu.count(VtdMmioCounter.BAD_ACCESS));
            assertEquals(2, iommu.unit().count(IommuCounter.REGISTER_MISUSE), "offsets past the register file");
            assertEquals(0, machine.iommu().unit().registers().read(VtdRegisterFile.RTADDR, 8),
                    "the misaligned 8-byte write changed nothing");
            assertFalse(iommu.unit().translationEnabled());
        }
    }

    @Test
    void anAccessStraddlingTheWindowsEndIsAnUnclaimedAccessThatEndsTheRun() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(read(0xFFC, 8)));
        try (Machine machine = machine(vcpu)) {
            machine.attachIommu(VtdConfig.standard());
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(RunOutcome.Ending.FAULT, outcome.ending());
            assertEquals(1, machine.counters().faults(GuestFault.UNCLAIMED_MMIO));
        }
    }

    @Test
    void faultEventsAreCountedWhenTheMachineHasNoInterruptPath() {
        try (Machine machine = machine(new ScriptedVcpu(List.of()))) {
            final VtdMmioDevice iommu = machine.attachIommu(VtdConfig.standard());
            iommu.write(VtdRegisterFile.RTADDR, 8, ROOT_TABLE_GPA);
            iommu.write(VtdRegisterFile.GCMD, 4, VtdRegisterFile.GCMD_SRTP);
            iommu.write(VtdRegisterFile.GCMD, 4, VtdRegisterFile.GCMD_TE);
            iommu.write(VtdRegisterFile.FEDATA, 4, 0x41);
            iommu.write(VtdRegisterFile.FEADDR, 4, MsiMessage.INTERRUPT_WINDOW_BASE);
            iommu.write(VtdRegisterFile.FECTL, 4, 0);
            final int device = SourceId.of(0, 3, 0);
            final DmaFault fault = assertThrows(DmaFault.class,
                    () -> iommu.unit().translate(device, 0x1000, AccessMode.READ));
            assertEquals(FaultReason.ROOT_ENTRY_NOT_PRESENT, fault.reason());
            assertEquals(1, iommu.count(VtdMmioCounter.EVENTS_UNDELIVERED));
            assertEquals(new MsiMessage(MsiMessage.INTERRUPT_WINDOW_BASE, 0x41), iommu.lastEvent());
            assertTrue((iommu.read(VtdRegisterFile.FSTS, 4) & VtdRegisterFile.FSTS_PPF) != 0, "the guest can poll");
        }
    }

    @Test
    void anIommuCannotBeAddedAfterTheRun() {
        try (Machine machine = machine(new ScriptedVcpu(List.of(exit())))) {
            machine.run(boot(machine), 0);
            assertThrows(IllegalStateException.class, () -> machine.attachIommu(VtdConfig.standard()));
            assertNull(machine.iommu());
        }
    }

    @Test
    void closingTheMachineKeepsTheIommuCountersReadable() {
        final Machine machine = machine(new ScriptedVcpu(List.of(read(VtdRegisterFile.VER, 2), exit())));
        final VtdMmioDevice iommu;
        try (machine) {
            iommu = machine.attachIommu(VtdConfig.standard());
            machine.run(boot(machine), 0);
        }
        assertEquals(1, iommu.count(VtdMmioCounter.BAD_ACCESS));
    }
}

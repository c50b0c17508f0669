package io.vioplane.vmx.machine;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.loader.BootTables;
import io.vioplane.vmx.testkit.GuestImages;
import io.vioplane.vmx.testkit.ScriptedVcpu;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The machine's run loop over a scripted vCPU: dispatch, counters, faults, watchdog, teardown. */
class MachineTest {
    private static final long MEMORY_BYTES = 8L << 20;
    private static final long DEBUG = DebugDevice.GPA;

    private final Counters counters = Counters.inMemory(64);
    private final List<String> consoleLines = new ArrayList<>();
    private final List<String> logLines = new ArrayList<>();
    private final ErrorLog log = ErrorLog.printingTo(logLines::add);

    private Machine machine(final ScriptedVcpu vcpu) {
        return new Machine("test", MEMORY_BYTES, vcpu, counters, consoleLines::add, log, Duration.ofSeconds(30));
    }

    private static BootCpuState boot(final Machine machine) {
        return BootTables.write(machine.memory(), BootTables.IMAGE_MIN_GPA, 3);
    }

    private static List<VmExit> consoleLine(final String text) {
        final List<VmExit> exits = new ArrayList<>();
        for (byte b : (text + "\n").getBytes(StandardCharsets.US_ASCII)) {
            exits.add(VmExit.mmio(DEBUG + DebugDevice.CONSOLE_BYTE, 1, true, b));
        }
        return exits;
    }

    @Test
    void runsAGuestThatPrintsReportsAResultAndExits() {
        final List<VmExit> exits = new ArrayList<>(consoleLine("hi"));
        exits.add(VmExit.mmio(DEBUG + DebugDevice.MAGIC, 4, false, 0));
        exits.add(VmExit.mmio(DEBUG + DebugDevice.BUFFER_GPA, 8, true, 0x200000));
        exits.add(VmExit.mmio(DEBUG + DebugDevice.RESULT_WRITE, 4, true, 7));
        exits.add(VmExit.mmio(DEBUG + DebugDevice.EXIT, 4, true, 0));
        final ScriptedVcpu vcpu = new ScriptedVcpu(exits);
        try (Machine machine = machine(vcpu)) {
            machine.memory().writeBytes(0x200000, "answer=42".getBytes(StandardCharsets.US_ASCII));
            final RunOutcome outcome = machine.run(boot(machine), MEMORY_BYTES);
            assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending());
            assertTrue(outcome.succeeded());
            assertEquals("answer=", outcome.result());
            assertEquals(List.of("hi"), consoleLines);
            assertEquals(List.of((long) DebugDevice.MAGIC_VALUE), vcpu.completedReads());
            assertEquals(7L, outcome.exitsByReason().get(ExitReason.EPT_VIOLATION));
            assertEquals(7L, machine.counters().exits(ExitReason.EPT_VIOLATION));
        }
        assertTrue(vcpu.closed());
    }

    @Test
    void publishesExitCountersByVmxReason() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(VmExit.mmio(DEBUG + DebugDevice.EXIT, 4, true, 3)));
        try (Machine machine = machine(vcpu)) {
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(3, outcome.exitStatus());
            final List<String> labels = new ArrayList<>();
            counters.reader().forEach((id, type, key, label) -> labels.add(label + "=" + counters.reader()
                    .getCounterValue(id)));
            assertTrue(labels.contains("vm[test] vmx exits: ept-violation (48)=1"), labels.toString());
        }
    }

    @Test
    void stopsAGuestThatWritesWhereNoDeviceIs() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(VmExit.mmio(0xC000_0000L, 4, true, 0xDEADBEEFL)));
        try (Machine machine = machine(vcpu)) {
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(RunOutcome.Ending.FAULT, outcome.ending());
            assertEquals(ExitReason.EPT_VIOLATION, outcome.fault().reason());
            assertTrue(outcome.message().contains("unclaimed-mmio") && outcome.message().contains("0xc0000000"),
                    outcome.message());
            assertEquals(1, machine.counters().faults(GuestFault.UNCLAIMED_MMIO));
            assertEquals(1, log.count(), "the fault is a logged failure");
        }
    }

    @Test
    void stopsAGuestThatStraddlesTheEndOfADeviceRange() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(
                VmExit.mmio(DEBUG + DebugDevice.SIZE_BYTES - 4, 8, true, 0)));
        try (Machine machine = machine(vcpu)) {
            assertEquals(RunOutcome.Ending.FAULT, machine.run(boot(machine), 0).ending());
        }
    }

    @Test
    void reportsTripleFaultByReason() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(VmExit.of(ExitReason.TRIPLE_FAULT)));
        try (Machine machine = machine(vcpu)) {
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(RunOutcome.Ending.FAULT, outcome.ending());
            assertTrue(outcome.message().contains("triple-fault (2)"), outcome.message());
            assertEquals(1L, outcome.exitsByReason().get(ExitReason.TRIPLE_FAULT));
        }
    }

    @Test
    void refusesStringIoItCannotEmulate() {
        final VmExit repOutsb = new VmExit(ExitReason.IO_INSTRUCTION, false, 0, 0, 0, 0xE9, 1, true, 'x', 16);
        try (Machine machine = machine(new ScriptedVcpu(List.of(repOutsb)))) {
            machine.ports().register(new AddressRange(0xE9, 1, "console port"), new NullDevice());
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertTrue(outcome.message().contains("string-io"), outcome.message());
        }
    }

    @Test
    void watchdogStopsAGuestThatNeverExits() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(consoleLine("spinning"));
        try (Machine machine = new Machine("spin", MEMORY_BYTES, vcpu, counters, consoleLines::add, log,
                Duration.ofMillis(200))) {
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertEquals(RunOutcome.Ending.WATCHDOG, outcome.ending());
            assertNull(outcome.fault());
            assertTrue(outcome.message().contains("watchdog"), outcome.message());
            assertEquals(1, machine.counters().faults(GuestFault.WATCHDOG));
        }
    }

    @Test
    void pciConfigSpaceAnswersThroughEcamAndCf8() {
        final long ecam = io.vioplane.platform.pci.PciHostBridge.ECAM_GPA;
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(
                VmExit.mmio(ecam, 4, false, 0),
                VmExit.mmio(ecam + (5 << 15), 4, false, 0),
                VmExit.io(0xCF8, 4, true, 0x8000_0000L),
                VmExit.io(0xCFC, 2, false, 0),
                VmExit.mmio(DEBUG + DebugDevice.EXIT, 4, true, 0)));
        try (Machine machine = machine(vcpu)) {
            assertTrue(machine.run(boot(machine), 0).succeeded());
            assertEquals(List.of(0x00081B36L, 0xFFFFFFFFL, 0x1B36L), vcpu.completedReads());
            assertEquals(2L, machine.counters().exits(ExitReason.IO_INSTRUCTION));
        }
    }

    @Test
    void reentersTheGuestAfterAStraySignal() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(VmExit.of(ExitReason.EXTERNAL_INTERRUPT),
                VmExit.mmio(DEBUG + DebugDevice.EXIT, 4, true, 0)));
        try (Machine machine = machine(vcpu)) {
            final RunOutcome outcome = machine.run(boot(machine), 0);
            assertTrue(outcome.succeeded(), outcome.message());
            assertEquals(1L, outcome.exitsByReason().get(ExitReason.EXTERNAL_INTERRUPT));
        }
    }

    @Test
    void barPlacedOverRamIsRefusedAndABarInTheWindowReachesItsDevice() {
        final long ecam = io.vioplane.platform.pci.PciHostBridge.ECAM_GPA + (2 << 15);
        final long window = PciPlatform.BAR_WINDOW_GPA;
        final ScriptedVcpu vcpu = new ScriptedVcpu(List.of(
                VmExit.mmio(ecam + 0x10, 4, true, 0x0010_0000L),
                VmExit.mmio(ecam + 0x04, 2, true, 0x2),
                VmExit.mmio(window, 4, false, 0),
                VmExit.mmio(ecam + 0x10, 4, true, window + 0x1000),
                VmExit.mmio(window + 0x1008, 4, true, 0x1234),
                VmExit.mmio(window + 0x1008, 4, false, 0),
                VmExit.mmio(DEBUG + DebugDevice.EXIT, 4, true, 0)));
        final List<String> accesses = new ArrayList<>();
        try (Machine machine = machine(vcpu)) {
            final io.vioplane.platform.pci.PciFunction function =
                    new io.vioplane.platform.pci.PciFunction(0x1AF4, 0x1000, 0x020000, 0);
            function.memoryBar(0, 0x1000, false);
            function.barHandler(new io.vioplane.platform.pci.PciFunction.BarHandler() {
                @Override
                public long read(final int bar, final long offset, final int sizeBytes) {
                    accesses.add("read bar" + bar + "+" + offset);
                    return 0x5678;
                }

                @Override
                public void write(final int bar, final long offset, final int sizeBytes, final long value) {
                    accesses.add("write bar" + bar + "+" + offset + "=" + Long.toHexString(value));
                }
            });
            machine.pci().attach(2, 0, function);
            assertTrue(machine.run(boot(machine), 0).succeeded());
            assertEquals(1, machine.pci().bars().refusedOutsideWindow(), "the BAR over RAM did not decode");
            assertEquals(1, machine.counters().faults(GuestFault.BAR_WINDOW_UNCLAIMED));
            assertEquals(List.of("write bar0+8=1234", "read bar0+8"), accesses);
            assertEquals(List.of(-1L, 0x5678L), vcpu.completedReads());
        }
    }

    @Test
    void rejectsOverlappingDevicesWhenTheMachineStarts() {
        try (Machine machine = machine(new ScriptedVcpu(List.of()))) {
            machine.mmio().register(new AddressRange(DebugDevice.GPA + 0x800, 0x1000, "evil device"), new NullDevice());
            final IllegalStateException error = assertThrows(IllegalStateException.class,
                    () -> machine.run(boot(machine), 0));
            assertTrue(error.getMessage().contains("debug device") && error.getMessage().contains("evil device"),
                    error.getMessage());
        }
    }

    @Test
    void leavesNoDescriptorOpen() throws Exception {
        final int before = GuestImages.openDescriptors();
        for (int i = 0; i < 5; i++) {
            try (Machine machine = machine(new ScriptedVcpu(List.of(VmExit.of(ExitReason.TRIPLE_FAULT))))) {
                machine.run(boot(machine), 0);
            }
        }
        assertEquals(before, GuestImages.openDescriptors());
    }

    private static final class NullDevice implements BusDevice {
        @Override
        public long read(final long offset, final int sizeBytes) {
            return -1;
        }

        @Override
        public void write(final long offset, final int sizeBytes, final long value) {
        }
    }
}

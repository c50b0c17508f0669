package io.vioplane.e1000;

import io.vioplane.e1000.testkit.CapturePort;
import io.vioplane.e1000.testkit.Frames;
import io.vioplane.e1000.testkit.ManualClock;
import io.vioplane.platform.pci.PciHostBridge;
import io.vioplane.platform.pci.PciRegisters;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.loader.BootTables;
import io.vioplane.vmx.machine.DebugDevice;
import io.vioplane.vmx.machine.GuestFault;
import io.vioplane.vmx.machine.Machine;
import io.vioplane.vmx.machine.PciPlatform;
import io.vioplane.vmx.machine.RunOutcome;
import io.vioplane.vmx.testkit.ScriptedVcpu;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.vioplane.e1000.E1000Registers.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The e1000 plugged into the VMM's {@link Machine} as PCI device 00:03.0, driven by a scripted vCPU the way a driver
 * drives it: ECAM config cycles size and place both BARs, then MMIO exits reach the registers and port-I/O exits the
 * IOADDR/IODATA window. (The same machine on /dev/kvm runs the project's guest driver; this machine has no KVM.)
 */
class E1000OnMachineTest {
    private static final long ECAM = PciHostBridge.ECAM_GPA + (3 << 15);
    private static final long BAR0_GPA = PciPlatform.BAR_WINDOW_GPA + 0x2_0000;
    private static final int BAR1_PORT = PciPlatform.IO_WINDOW_PORT + 0x40;

    @Test
    void aDriverSizesPlacesAndReachesBothBarsThroughTheMachine() {
        final List<VmExit> exits = List.of(
                VmExit.mmio(ECAM, 4, false, 0),
                VmExit.mmio(ECAM + PciRegisters.BAR0, 4, true, 0xFFFF_FFFFL),
                VmExit.mmio(ECAM + PciRegisters.BAR0, 4, false, 0),
                VmExit.mmio(ECAM + PciRegisters.BAR0 + 4, 4, true, 0xFFFF_FFFFL),
                VmExit.mmio(ECAM + PciRegisters.BAR0 + 4, 4, false, 0),
                VmExit.mmio(ECAM + PciRegisters.BAR0, 4, true, BAR0_GPA),
                VmExit.mmio(ECAM + PciRegisters.BAR0 + 4, 4, true, BAR1_PORT),
                VmExit.mmio(ECAM + PciRegisters.COMMAND, 2, true, PciRegisters.COMMAND_IO
                        | PciRegisters.COMMAND_MEMORY | PciRegisters.COMMAND_BUS_MASTER),
                VmExit.mmio(BAR0_GPA + RDTR, 4, true, 0x55),
                VmExit.mmio(BAR0_GPA + RDTR, 4, false, 0),
                VmExit.io(BAR1_PORT + IOADDR, 4, true, RDTR),
                VmExit.io(BAR1_PORT + IODATA, 4, false, 0),
                VmExit.mmio(BAR0_GPA + EERD, 4, true, EERD_START),
                VmExit.mmio(BAR0_GPA + EERD, 4, false, 0),
                VmExit.io(BAR1_PORT + 0x40, 4, false, 0),
                VmExit.mmio(DebugDevice.GPA + DebugDevice.EXIT, 4, true, 0));
        final ScriptedVcpu vcpu = new ScriptedVcpu(exits);
        final List<String> console = new ArrayList<>();
        try (Machine machine = new Machine("e1000", 8L << 20, vcpu, Counters.inMemory(64), console::add,
                ErrorLog.printingTo(console::add), Duration.ofSeconds(30));
             E1000PciFunction e1000 = new E1000PciFunction(machine.memory(), new CapturePort(), level -> { },
                     new ManualClock(), Frames.DEVICE_MAC, CounterSet.unpublished(E1000Counter.class))) {
            machine.pci().attach(3, 0, e1000.function());
            final RunOutcome outcome = machine.run(BootTables.write(machine.memory(), BootTables.IMAGE_MIN_GPA, 3), 0);
            assertTrue(outcome.succeeded(), outcome.message());
            final List<Long> reads = vcpu.completedReads();
            assertEquals(0x100E_8086L, reads.get(0));
            assertEquals(0xFFFE_0000L, reads.get(1));
            assertEquals(0xFFFF_FFC1L, reads.get(2));
            assertEquals(0x55L, reads.get(3), "MMIO read of RDTR");
            assertEquals(0x55L, reads.get(4), "IODATA read of RDTR");
            assertEquals(Frames.DEVICE_MAC & 0xFFFF, reads.get(5) >>> EERD_DATA_SHIFT, "EEPROM word 0 by EERD");
            assertEquals(0xFFFF_FFFFL, reads.get(6) & 0xFFFF_FFFFL, "the port past BAR1 is no device's");
            assertEquals(1, machine.counters().faults(GuestFault.BAR_WINDOW_UNCLAIMED));
            assertEquals(1, machine.pci().ioBars().placements().size());
            assertEquals(BAR1_PORT, machine.pci().ioBars().placements().get(0).gpa());
        }
    }
}

package io.vioplane.cli.nic;

import io.vioplane.e1000.E1000Registers;
import io.vioplane.platform.pci.PciHostBridge;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.loader.BootTables;
import io.vioplane.vmx.machine.DebugDevice;
import io.vioplane.vmx.machine.Machine;
import io.vioplane.vmx.machine.PciPlatform;
import io.vioplane.vmx.machine.RunOutcome;
import io.vioplane.vmx.testkit.ScriptedVcpu;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The e1000 plugged into a {@link Machine} whose vCPU is scripted (no /dev/kvm): the guest finds it through ECAM
 * with firmware-placed BARs and its INTA# routing, drives its registers through BAR0 in the memory BAR window, sends
 * a frame through a transmit ring in guest memory, and raises and clears INTA#; the accounting counts the data path.
 */
class MachineE1000Test {
    private static final long MEMORY_BYTES = 8L << 20;
    private static final long ECAM_GPA = PciHostBridge.ECAM_GPA + ((long) MachineE1000.SLOT << 15);
    private static final long BAR0_GPA = PciPlatform.BAR_WINDOW_GPA;
    private static final long TX_RING_GPA = 0x40_0000L;
    private static final long TX_BUFFER_GPA = 0x41_0000L;
    private static final int TX_ENTRIES = 8;
    private static final long MAC = 0x5634_1200_5452L;

    private final Counters counters = Counters.inMemory(256);
    private final List<String> logLines = new ArrayList<>();
    private final ErrorLog log = ErrorLog.printingTo(logLines::add);
    private final List<String> irqChanges = new ArrayList<>();

    private static VmExit configRead(final int offset) {
        return VmExit.mmio(ECAM_GPA + offset, 4, false, 0);
    }

    private static VmExit register(final int offset, final long value) {
        return VmExit.mmio(BAR0_GPA + offset, 4, true, value);
    }

    private static VmExit registerRead(final int offset) {
        return VmExit.mmio(BAR0_GPA + offset, 4, false, 0);
    }

    @Test
    void theGuestFindsTheE1000SendsAFrameAndSeesItsInterrupt() {
        final List<VmExit> exits = new ArrayList<>(List.of(
                configRead(0x00), configRead(0x10), configRead(0x14), configRead(0x3C),
                VmExit.mmio(ECAM_GPA + 0x04, 2, true, 0x6),
                register(E1000Registers.IMC, 0xFFFF_FFFFL),
                register(E1000Registers.TDBAL, TX_RING_GPA),
                register(E1000Registers.TDBAH, 0),
                register(E1000Registers.TDLEN, TX_ENTRIES * 16),
                register(E1000Registers.TDH, 0),
                register(E1000Registers.TDT, 0),
                register(E1000Registers.TCTL, E1000Registers.TCTL_EN),
                register(E1000Registers.TDT, 1),
                registerRead(E1000Registers.GPTC),
                register(E1000Registers.IMS, E1000Registers.ICR_TXDW),
                register(E1000Registers.ICS, E1000Registers.ICR_TXDW),
                registerRead(E1000Registers.ICR),
                VmExit.mmio(DebugDevice.GPA + DebugDevice.EXIT, 4, true, 0)));
        final ScriptedVcpu vcpu = new ScriptedVcpu(exits);
        final MachineE1000 device;
        try (Machine machine = new Machine("e1000", MEMORY_BYTES, vcpu, counters, line -> { }, log,
                Duration.ofSeconds(30))) {
            writeFrameDescriptor(machine);
            device = MachineE1000.plug(machine, gsi -> asserted -> irqChanges.add(gsi + (asserted ? "+" : "-")),
                    null, MAC, counters, log);
            final RunOutcome outcome;
            try (device) {
                outcome = machine.run(BootTables.write(machine.memory(), BootTables.IMAGE_MIN_GPA, 3), 0);
            }
            assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending(), outcome.message());
            final List<Long> reads = vcpu.completedReads();
            assertEquals(0x100E_8086L, reads.get(0), "vendor 8086, device 100E through ECAM");
            assertEquals(BAR0_GPA, reads.get(1), "BAR0 placed at the start of the BAR window");
            assertEquals(PciPlatform.IO_WINDOW_PORT | 1L, reads.get(2), "BAR1 placed in the I/O window");
            assertEquals(0x0100L | MachineE1000.GSI, reads.get(3), "INTA#, routed to the GSI in Interrupt Line");
            assertEquals(1L, reads.get(4), "GPTC counts the frame sent");
            assertEquals(E1000Registers.ICR_TXDW, reads.get(5) & E1000Registers.ICR_TXDW, "ICR shows the cause");
        }
        assertEquals(List.of(MachineE1000.GSI + "+", MachineE1000.GSI + "-"), irqChanges,
                "ICS with IMS set asserts INTA#, reading ICR clears it");
        final E1000Accounting.Report report = device.report();
        assertNotNull(report);
        assertEquals(1, report.framesSent());
        assertEquals(1, report.interrupts());
        assertEquals(1, report.dataPathFrames(), "the data path opens at the TDT write that sent the frame");
        assertEquals(Map.of("TDT", 1L, "IMS", 1L, "ICS", 1L), report.dataPathWrites());
        assertEquals(Map.of("GPTC", 1L, "ICR", 1L), report.dataPathReads());
        assertEquals(6L, report.dataPathExits().get(ExitReason.EPT_VIOLATION),
                "five e1000 accesses and the debug device's exit, from the TDT write on");
        assertTrue(logLines.stream().noneMatch(line -> line.contains("I/O thread")), logLines.toString());
    }

    /** One 60-byte frame in descriptor 0 (legacy transmit descriptor, 8254x SDM 3.3.3). */
    private static void writeFrameDescriptor(final Machine machine) {
        final byte[] frame = new byte[60];
        for (int i = 0; i < 6; i++) {
            frame[i] = (byte) 0xFF;
        }
        machine.memory().writeBytes(TX_BUFFER_GPA, frame);
        final byte[] descriptor = new byte[16];
        for (int i = 0; i < 8; i++) {
            descriptor[i] = (byte) (TX_BUFFER_GPA >>> (8 * i));
        }
        descriptor[8] = 60;
        descriptor[11] = 0x01 | 0x02 | 0x08;
        machine.memory().writeBytes(TX_RING_GPA, descriptor);
    }
}

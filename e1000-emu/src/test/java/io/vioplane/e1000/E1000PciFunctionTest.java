package io.vioplane.e1000;

import io.vioplane.e1000.testkit.CapturePort;
import io.vioplane.e1000.testkit.Frames;
import io.vioplane.e1000.testkit.ManualClock;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.pci.PciRegisters;
import io.vioplane.platform.runtime.CounterSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.vioplane.e1000.E1000Registers.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 82540EM's PCI function: configuration space as Linux's e1000 probe reads it, BAR sizing, BAR routing, INTA#. */
class E1000PciFunctionTest {
    private final GuestMemory memory = GuestMemory.ofMemFd(0x10_0000, 0x10_0000);
    private final List<Boolean> intx = new ArrayList<>();
    private final CounterSet<E1000Counter> counters = CounterSet.unpublished(E1000Counter.class);
    private final E1000PciFunction e1000 = new E1000PciFunction(memory, new CapturePort(), intx::add,
            new ManualClock(), Frames.DEVICE_MAC, counters);
    private final PciFunction function = e1000.function();

    @AfterEach
    void close() {
        e1000.close();
        memory.close();
    }

    @Test
    void identifiesAsAn82540EmEthernetController() {
        assertEquals(0x100E_8086, function.readConfig(PciRegisters.VENDOR_ID, 4));
        assertEquals(0x0200_0003, function.readConfig(PciRegisters.REVISION_ID, 4), "class 02/00/00, revision 3");
        assertEquals(0x8086, function.readConfig(PciRegisters.SUBSYSTEM_VENDOR_ID, 2));
        assertEquals(0x100E, function.readConfig(PciRegisters.SUBSYSTEM_ID, 2), "subsystem ID from EEPROM word 0x0B");
        assertEquals(e1000.device().eepromWord(0x0B), function.readConfig(PciRegisters.SUBSYSTEM_ID, 2));
        assertEquals(1, function.readConfig(PciRegisters.INTERRUPT_PIN, 1), "INTA#");
        assertEquals(0, function.readConfig(PciRegisters.HEADER_TYPE, 1), "type 0, single function");
        assertEquals(0, function.readConfig(PciRegisters.STATUS, 2) & PciRegisters.STATUS_CAPABILITIES,
                "no capability list");
    }

    @Test
    void barsSizeTheWayTheSpecSays() {
        function.writeConfig(PciRegisters.BAR0, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFE_0000, function.readConfig(PciRegisters.BAR0, 4), "128 KiB, 32-bit, not prefetchable");
        function.writeConfig(PciRegisters.BAR0 + 4, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FFC1, function.readConfig(PciRegisters.BAR0 + 4, 4), "64 ports of I/O space");
        for (int bar = 2; bar < PciRegisters.BAR_COUNT; bar++) {
            function.writeConfig(PciRegisters.BAR0 + 4 * bar, 4, 0xFFFF_FFFF);
            assertEquals(0, function.readConfig(PciRegisters.BAR0 + 4 * bar, 4), "BAR" + bar + " is not implemented");
        }
        function.writeConfig(0x30, 4, 0xFFFF_FFFF);
        assertEquals(0, function.readConfig(0x30, 4), "no expansion ROM");
        function.writeConfig(PciRegisters.BAR0, 4, 0xFEBC_0000);
        function.writeConfig(PciRegisters.BAR0 + 4, 4, 0xC040);
        assertEquals(0xFEBC_0000L, function.barAddress(0));
        assertEquals(0xC040L, function.barAddress(1));
        assertTrue(function.barIsIo(1));
        assertFalse(function.barDecoding(0), "memory space is off");
        assertFalse(function.barDecoding(1), "I/O space is off");
        function.writeConfig(PciRegisters.COMMAND, 2, PciRegisters.COMMAND_IO);
        assertTrue(function.barDecoding(1));
        assertFalse(function.barDecoding(0));
        function.writeConfig(PciRegisters.COMMAND, 2, PciRegisters.COMMAND_IO | PciRegisters.COMMAND_MEMORY);
        assertTrue(function.barDecoding(0));
    }

    @Test
    void bar0ReachesTheRegistersAndBar1TheIoWindow() {
        assertEquals(e1000.device().peek(STATUS) & 0xFFFF_FFFFL, e1000.read(0, STATUS, 4));
        e1000.write(0, RDTR, 4, 0x1234);
        assertEquals(0x1234, e1000.read(0, RDTR, 4));
        e1000.write(1, IOADDR, 4, RDTR);
        assertEquals(RDTR, e1000.read(1, IOADDR, 4));
        assertEquals(0x1234, e1000.read(1, IODATA, 4));
        e1000.write(1, IODATA, 4, 0x42);
        assertEquals(0x42, e1000.device().peek(RDTR));
    }

    @Test
    void accessesOutsideTheBarsAreCountedAndReadAllOnes() {
        assertEquals(-1L, e1000.read(2, 0, 4));
        assertEquals(-1L, e1000.read(1, IO_BYTES, 4));
        e1000.write(1, -4, 4, 1);
        e1000.write(5, 0, 4, 1);
        assertEquals(4, counters.get(E1000Counter.IO_RESERVED_ACCESS));
    }

    @Test
    void theInterruptLineShowsInStatusAndReachesIntaUnlessDisabled() {
        e1000.write(0, IMS, 4, ICR_TXDW);
        e1000.write(0, ICS, 4, ICR_TXDW);
        assertEquals(List.of(true), intx);
        assertTrue((function.readConfig(PciRegisters.STATUS, 2) & PciRegisters.STATUS_INTERRUPT) != 0);
        e1000.read(0, ICR, 4);
        assertEquals(List.of(true, false), intx);
        assertEquals(0, function.readConfig(PciRegisters.STATUS, 2) & PciRegisters.STATUS_INTERRUPT);
        function.writeConfig(PciRegisters.COMMAND, 2, PciRegisters.COMMAND_INTX_DISABLE);
        e1000.write(0, ICS, 4, ICR_TXDW);
        assertEquals(List.of(true, false), intx, "Interrupt Disable keeps INTA# deasserted");
        assertTrue((function.readConfig(PciRegisters.STATUS, 2) & PciRegisters.STATUS_INTERRUPT) != 0,
                "the status bit still shows the device's level");
    }
}

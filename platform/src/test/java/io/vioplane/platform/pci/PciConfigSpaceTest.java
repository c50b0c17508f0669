package io.vioplane.platform.pci;

import io.vioplane.platform.irq.MsiMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration space, BARs, capabilities and the host bridge, driven the way a guest drives them. */
class PciConfigSpaceTest {
    private static final long WINDOW_GPA = 0xE000_0000L;
    private static final long WINDOW_BYTES = 0x1000_0000L;

    private final PciHostBridge bridge = new PciHostBridge(0x1B36, 0x0008);
    private final BarMap bars = new BarMap(WINDOW_GPA, WINDOW_BYTES);

    private PciFunction device(final int slot) {
        final PciFunction function = new PciFunction(0x8086, 0x100E, 0x020000, 3);
        function.memoryBar(0, 0x20000, false);
        function.memoryBar(2, 0x4000, true);
        new PciExpressCapability(function);
        new MsiCapability(function);
        new MsixCapability(function, 4, 2, 0);
        function.addExtendedCapability(0x0001, 2, 0x48);
        function.addExtendedCapability(0x0010, 1, 0x40);
        function.listener(bars);
        bridge.attach(slot, 0, function);
        return function;
    }

    private static long ecam(final int slot, final int register) {
        return ((long) slot << 15) | register;
    }

    @Test
    void readOnlyRegistersIgnoreGuestWrites() {
        device(1);
        bridge.ecamWrite(ecam(1, 0), 4, 0xDEADBEEFL);
        assertEquals(0x100E8086L, bridge.ecamRead(ecam(1, 0), 4));
        bridge.ecamWrite(ecam(1, PciRegisters.CLASS_CODE - 1), 4, 0xFFFFFFFFL);
        assertEquals(0x020000, bridge.ecamRead(ecam(1, 8), 4) >>> 8);
    }

    @Test
    void statusErrorBitsAreWriteOneToClear() {
        final PciFunction function = device(1);
        function.config().set(PciRegisters.STATUS, 2, 0x8000 | 0x4000 | PciRegisters.STATUS_CAPABILITIES);
        bridge.ecamWrite(ecam(1, PciRegisters.STATUS), 2, 0x8000);
        assertEquals(0x4000 | PciRegisters.STATUS_CAPABILITIES, bridge.ecamRead(ecam(1, PciRegisters.STATUS), 2));
        bridge.ecamWrite(ecam(1, PciRegisters.STATUS), 2, PciRegisters.STATUS_CAPABILITIES);
        assertEquals(0x4000 | PciRegisters.STATUS_CAPABILITIES, bridge.ecamRead(ecam(1, PciRegisters.STATUS), 2),
                "capabilities bit is read-only");
    }

    @Test
    void barSizingReadsBackTheSizeMask() {
        device(1);
        bridge.ecamWrite(ecam(1, PciRegisters.BAR0), 4, 0xFFFFFFFFL);
        assertEquals(0xFFFE0000L, bridge.ecamRead(ecam(1, PciRegisters.BAR0), 4), "128 KiB 32-bit BAR");
        bridge.ecamWrite(ecam(1, PciRegisters.BAR0 + 8), 4, 0xFFFFFFFFL);
        bridge.ecamWrite(ecam(1, PciRegisters.BAR0 + 12), 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFC004L, bridge.ecamRead(ecam(1, PciRegisters.BAR0 + 8), 4), "16 KiB 64-bit BAR, type 10b");
        assertEquals(0xFFFFFFFFL, bridge.ecamRead(ecam(1, PciRegisters.BAR0 + 12), 4));
    }

    @Test
    void placedBarsDecodeOnlyWithMemoryEnabled() {
        final PciFunction function = device(1);
        bridge.ecamWrite(ecam(1, PciRegisters.BAR0), 4, WINDOW_GPA);
        assertNull(bars.find(WINDOW_GPA), "memory decoding still off");
        bridge.ecamWrite(ecam(1, PciRegisters.COMMAND), 2, PciRegisters.COMMAND_MEMORY);
        final BarMap.Placement placement = bars.find(WINDOW_GPA + 0x1FFFF);
        assertEquals(function, placement.function());
        assertEquals(0, placement.bar());
        assertNull(bars.find(WINDOW_GPA + 0x20000));
    }

    @Test
    void refusesBarPlacedOverRam() {
        device(1);
        bridge.ecamWrite(ecam(1, PciRegisters.BAR0), 4, 0x0010_0000L);
        bridge.ecamWrite(ecam(1, PciRegisters.COMMAND), 2, PciRegisters.COMMAND_MEMORY);
        assertNull(bars.find(0x0010_0000L));
        assertEquals(1, bars.refusedOutsideWindow());
    }

    @Test
    void refusesBarPlacedOverAnotherBar() {
        device(1);
        device(2);
        bridge.ecamWrite(ecam(1, PciRegisters.BAR0), 4, WINDOW_GPA);
        bridge.ecamWrite(ecam(1, PciRegisters.COMMAND), 2, PciRegisters.COMMAND_MEMORY);
        bridge.ecamWrite(ecam(2, PciRegisters.BAR0 + 8), 4, WINDOW_GPA + 0x4000);
        bridge.ecamWrite(ecam(2, PciRegisters.BAR0 + 12), 4, 0);
        bridge.ecamWrite(ecam(2, PciRegisters.COMMAND), 2, PciRegisters.COMMAND_MEMORY);
        assertEquals(0, bars.find(WINDOW_GPA + 0x4000).bar(), "the first BAR keeps the range");
        assertTrue(bars.refusedOverlap() >= 1);
    }

    @Test
    void capabilityListsAreWalkable() {
        device(1);
        assertTrue((bridge.ecamRead(ecam(1, PciRegisters.STATUS), 2) & PciRegisters.STATUS_CAPABILITIES) != 0);
        assertEquals(List.of(PciRegisters.CAP_PCI_EXPRESS, PciRegisters.CAP_MSI, PciRegisters.CAP_MSIX),
                walk(1));
        assertEquals(List.of(0x0001, 0x0010), walkExtended(1));
    }

    private List<Integer> walk(final int slot) {
        final List<Integer> ids = new ArrayList<>();
        int pointer = (int) bridge.ecamRead(ecam(slot, PciRegisters.CAPABILITIES_POINTER), 1);
        for (int hops = 0; pointer != 0 && hops < 48; hops++) {
            ids.add((int) bridge.ecamRead(ecam(slot, pointer), 1));
            pointer = (int) bridge.ecamRead(ecam(slot, pointer + 1), 1);
        }
        return ids;
    }

    private List<Integer> walkExtended(final int slot) {
        final List<Integer> ids = new ArrayList<>();
        int offset = PciRegisters.EXTENDED_CAPABILITIES;
        for (int hops = 0; offset != 0 && hops < 960; hops++) {
            final long header = bridge.ecamRead(ecam(slot, offset), 4);
            ids.add((int) (header & 0xFFFF));
            offset = (int) (header >>> 20);
        }
        return ids;
    }

    @Test
    void msiCapabilityHoldsTheProgrammedMessage() {
        final PciFunction function = new PciFunction(0x8086, 0x100E, 0x020000, 3);
        final MsiCapability msi = new MsiCapability(function);
        bridge.attach(4, 0, function);
        bridge.ecamWrite(ecam(4, msi.offset() + 4), 4, 0xFEE00000L);
        bridge.ecamWrite(ecam(4, msi.offset() + 12), 2, 0x41);
        bridge.ecamWrite(ecam(4, msi.offset() + 2), 2, 1);
        assertTrue(msi.enabled());
        assertEquals(new MsiMessage(0xFEE00000L, 0x41), msi.message());
    }

    @Test
    void msixTableStartsMaskedAndKeepsThePbaReadOnly() {
        final PciFunction function = new PciFunction(1, 2, 0x020000, 0);
        final MsixCapability msix = new MsixCapability(function, 3, 0, 0);
        assertTrue(msix.masked(2));
        assertTrue(msix.writeTable(16 + 0, 8, 0xFEE00000L));
        assertTrue(msix.writeTable(16 + 8, 4, 0x30));
        assertTrue(msix.writeTable(16 + 12, 4, 0));
        assertFalse(msix.masked(1));
        assertEquals(new MsiMessage(0xFEE00000L, 0x30), msix.message(1));
        assertFalse(msix.writeTable(48, 4, 1), "the PBA is read-only");
        assertFalse(msix.writeTable(17, 4, 1), "unaligned");
        assertFalse(msix.writeTable(16, 2, 1), "2-byte access");
        msix.setPending(1, true);
        assertEquals(2L, msix.readTable(48, 8));
        assertEquals(-1L, msix.readTable(1 << 20, 4));
    }

    @Test
    void cf8cfcReachesTheSameConfigSpaceAsEcam() {
        device(3);
        bridge.portWrite(PciHostBridge.CONFIG_ADDRESS_PORT, 4, 0x8000_0000L | (3 << 11));
        assertEquals(0x100E8086L, bridge.portRead(PciHostBridge.CONFIG_DATA_PORT, 4));
        assertEquals(0x100EL, bridge.portRead(PciHostBridge.CONFIG_DATA_PORT + 2, 2));
        bridge.portWrite(PciHostBridge.CONFIG_ADDRESS_PORT, 4, 3 << 11);
        assertEquals(0xFFFFFFFFL, bridge.portRead(PciHostBridge.CONFIG_DATA_PORT, 4), "enable bit clear");
        bridge.portWrite(PciHostBridge.CONFIG_ADDRESS_PORT, 4, 0x8000_0000L | (9 << 11));
        assertEquals(0xFFFFFFFFL, bridge.portRead(PciHostBridge.CONFIG_DATA_PORT, 4), "no device 9");
    }

    @Test
    void survivesGarbageWrittenToEveryOffsetOfEveryFunction() {
        device(1);
        device(2);
        final Random random = new Random(11);
        for (int slot = 0; slot < 32; slot++) {
            for (int register = 0; register < ConfigSpace.SIZE_BYTES; register++) {
                for (int size : new int[] {1, 2, 4, 8, 3}) {
                    bridge.ecamWrite(ecam(slot, register), size, random.nextLong());
                    bridge.ecamRead(ecam(slot, register), size);
                }
            }
        }
        for (int slot : new int[] {1, 2}) {
            assertEquals(0x100E8086L, bridge.ecamRead(ecam(slot, 0), 4));
            assertEquals(List.of(PciRegisters.CAP_PCI_EXPRESS, PciRegisters.CAP_MSI, PciRegisters.CAP_MSIX),
                    walk(slot));
            assertEquals(List.of(0x0001, 0x0010), walkExtended(slot));
        }
        assertEquals(0x00081B36L, bridge.ecamRead(0, 4), "the host bridge's own IDs survive too");
        assertTrue(bridge.malformedAccesses() > 0);
        for (BarMap.Placement placement : bars.placements()) {
            assertTrue(placement.gpa() >= WINDOW_GPA && placement.gpa() + placement.sizeBytes()
                    <= WINDOW_GPA + WINDOW_BYTES, placement.toString());
        }
    }

    @Test
    void ioBarsSizeWithTheSpaceBitAndDecodeOnlyInTheirOwnMap() {
        final BarMap ioBars = new BarMap(0xC000, 0x4000, true);
        final PciFunction function = new PciFunction(0x8086, 0x100E, 0x020000, 3);
        function.memoryBar(0, 0x20000, false);
        function.ioBar(1, 0x40);
        function.listener((f, bar, start, size, decoding) -> {
            bars.barChanged(f, bar, start, size, decoding);
            ioBars.barChanged(f, bar, start, size, decoding);
        });
        function.writeConfig(0x14, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FFC1, function.readConfig(0x14, 4));
        function.writeConfig(0x14, 4, 0xC041);
        function.writeConfig(0x10, 4, (int) WINDOW_GPA);
        assertEquals(0xC041, function.readConfig(0x14, 4), "bits below the size read as zero, bit 0 as one");
        function.writeConfig(PciRegisters.COMMAND, 2, PciRegisters.COMMAND_MEMORY);
        assertTrue(ioBars.placements().isEmpty(), "I/O space is still off");
        assertEquals(1, bars.placements().size());
        function.writeConfig(PciRegisters.COMMAND, 2, PciRegisters.COMMAND_MEMORY | PciRegisters.COMMAND_IO);
        assertEquals(0xC040, ioBars.find(0xC07F).gpa());
        assertNull(ioBars.find(0xC080));
        assertEquals(0, bars.find(WINDOW_GPA).bar(), "the memory map holds only the memory BAR");
        assertEquals(1, bars.placements().size());
    }
}

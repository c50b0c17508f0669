package io.vioplane.e1000;

import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.pci.ConfigSpace;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.pci.PciRegisters;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.virtionet.port.NetPort;

/**
 * The 82540EM as a conventional PCI function (8254x SDM 4.1, table 4-2 "PCI configuration space"), around an
 * {@link E1000Device}:
 *
 * <pre>
 *   0x00 vendor 0x8086, device 0x100E        0x08 revision 0x03 (as QEMU's 82540EM), class 0x020000 (Ethernet)
 *   0x0C cache line size (RW), latency timer (RW)
 *   0x10 BAR0: 128 KiB memory, 32-bit, not prefetchable: the register window ({@link E1000Device#mmioRead})
 *   0x14 BAR1: 64 ports of I/O space: IOADDR at 0, IODATA at 4 (SDM 13.2; {@link E1000Device#ioRead})
 *   0x2C subsystem vendor / subsystem ID: EEPROM words 0x0C / 0x0B, which the hardware loads at power-up (SDM 5.6.x)
 *   0x3D interrupt pin 1 (INTA#)
 * </pre>
 *
 * No capability list: QEMU's multi-process proxy forwards conventional PCI only (no MSI, no extended space), and the
 * 82540EM's power-management capability is nothing Linux's e1000 driver needs.
 *
 * <p>The device's interrupt line is INTA#: its level shows in the status register's interrupt bit (PCI Local Bus
 * 3.0, 6.2.3) and goes to the host's {@link io.vioplane.e1000.InterruptLine} unless the guest set Interrupt Disable
 * in the command register when the level changed. Not thread-safe: config and BAR accesses on one thread, like the
 * device's own.
 */
public final class E1000PciFunction implements PciFunction.BarHandler, AutoCloseable {
    public static final int VENDOR_ID = 0x8086;
    public static final int DEVICE_ID = 0x100E;
    public static final int CLASS_ETHERNET = 0x020000;
    public static final int REVISION = 0x03;
    /** BAR0: the memory-mapped register window. */
    public static final int MMIO_BAR = 0;
    /** BAR1: the IOADDR/IODATA window. */
    public static final int IO_BAR = 1;
    private static final int CACHE_LINE_SIZE = 0x0C;
    private static final int LATENCY_TIMER = 0x0D;
    private static final int EEPROM_SUBSYSTEM_ID = 0x0B;
    private static final int EEPROM_SUBSYSTEM_VENDOR = 0x0C;

    private final PciFunction function;
    private final E1000Device device;
    private final InterruptLine intx;
    private final CounterSet<E1000Counter> counters;

    /**
     * @param dma        where the guest's rings and buffers live (the function's DMA address space)
     * @param port       where frames go and come from
     * @param intx       the host's INTA# input for this function
     * @param clock      the moderation timers' time base
     * @param macAddress the EEPROM's Ethernet address, first octet in the low byte
     * @param counters   where guest misbehaviour is counted
     */
    public E1000PciFunction(final DmaSpace dma, final NetPort port, final InterruptLine intx, final DeviceClock clock,
                            final long macAddress, final CounterSet<E1000Counter> counters) {
        this.intx = intx;
        this.counters = counters;
        this.function = new PciFunction(VENDOR_ID, DEVICE_ID, CLASS_ETHERNET, REVISION);
        this.device = new E1000Device(dma, port, this::interrupt, clock, macAddress, counters);
        final ConfigSpace config = function.config();
        config.set(PciRegisters.SUBSYSTEM_VENDOR_ID, 2, device.eepromWord(EEPROM_SUBSYSTEM_VENDOR));
        config.set(PciRegisters.SUBSYSTEM_ID, 2, device.eepromWord(EEPROM_SUBSYSTEM_ID));
        config.set(PciRegisters.INTERRUPT_PIN, 1, PciRegisters.INTERRUPT_PIN_A);
        config.writable(CACHE_LINE_SIZE, 1, 0xFF);
        config.writable(LATENCY_TIMER, 1, 0xFF);
        function.memoryBar(MMIO_BAR, E1000Registers.MMIO_BYTES, false);
        function.ioBar(IO_BAR, E1000Registers.IO_BYTES);
        function.barHandler(this);
    }

    /** @return the PCI function (config space, BARs) to plug into a host bridge or serve to QEMU */
    public PciFunction function() {
        return function;
    }

    /** @return the device model behind the BARs */
    public E1000Device device() {
        return device;
    }

    /** A power-on reset of the device model (the host resets config space, which it owns, itself). */
    public void reset() {
        device.powerOnReset();
    }

    private void interrupt(final boolean asserted) {
        final ConfigSpace config = function.config();
        final int status = config.get(PciRegisters.STATUS, 2);
        config.set(PciRegisters.STATUS, 2, asserted ? status | PciRegisters.STATUS_INTERRUPT
                : status & ~PciRegisters.STATUS_INTERRUPT);
        final boolean disabled = (config.get(PciRegisters.COMMAND, 2) & PciRegisters.COMMAND_INTX_DISABLE) != 0;
        if (!disabled || !asserted) {
            intx.set(asserted);
        }
    }

    /** A guest read in BAR0 (registers) or BAR1 (IOADDR/IODATA); any other BAR reads all ones and is counted. */
    @Override
    public long read(final int bar, final long offset, final int sizeBytes) {
        if (bar == MMIO_BAR) {
            return device.mmioRead(offset, sizeBytes);
        }
        if (bar == IO_BAR && offset >= 0 && offset < E1000Registers.IO_BYTES) {
            final long mask = sizeBytes >= 4 ? 0xFFFF_FFFFL : (1L << (8 * sizeBytes)) - 1;
            return device.ioRead((int) offset, sizeBytes) & mask;
        }
        counters.increment(E1000Counter.IO_RESERVED_ACCESS);
        return -1L;
    }

    /** A guest write in BAR0 or BAR1. */
    @Override
    public void write(final int bar, final long offset, final int sizeBytes, final long value) {
        if (bar == MMIO_BAR) {
            device.mmioWrite(offset, sizeBytes, value);
        } else if (bar == IO_BAR && offset >= 0 && offset < E1000Registers.IO_BYTES) {
            device.ioWrite((int) offset, sizeBytes, (int) value);
        } else {
            counters.increment(E1000Counter.IO_RESERVED_ACCESS);
        }
    }

    @Override
    public void close() {
        device.close();
    }
}

package io.vioplane.cli.nic;

import io.vioplane.e1000.DeviceClock;
import io.vioplane.e1000.E1000Counter;
import io.vioplane.e1000.E1000PciFunction;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.pci.PciRegisters;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.machine.IrqLine;
import io.vioplane.vmx.machine.Machine;
import io.vioplane.vmx.machine.MachineDevices;
import io.vioplane.vmx.machine.PciPlatform;

import java.util.function.IntFunction;

/**
 * An 82540EM ({@link E1000PciFunction}) on vioplane's own {@link Machine}, as {@code vioplane run --device e1000}
 * plugs it in:
 *
 * <pre>
 *   00:02.0           on the machine's PCI host bridge, config space through ECAM and CF8/CFC
 *   BAR0 (128 KiB)    placed at the start of the memory BAR window (0xE0000000), as firmware would
 *   BAR1 (64 ports)   placed at the start of the I/O BAR window (0xC000)
 *   INTA#             GSI 16 + (slot + pin - 1) mod 4 = 18, an IOAPIC pin (PCI-to-PCI Bridge 1.2, 9.1 swizzle);
 *                     the Interrupt Line register (PCI 3.0, 6.2.4) holds it
 *   DMA               the machine's guest memory (guest-physical = device address: no IOMMU)
 * </pre>
 *
 * <p>Threads: register accesses arrive on the vCPU thread (a TDT write transmits synchronously, 8254x SDM 3.3.1);
 * the device's receive side and timers run on an I/O thread ({@link DataPlane}: it spins briefly, then sleeps until
 * the TAP is readable or 100 ms pass), which moves the TAP's frames into the guest's receive ring without any VM
 * exit. The two are serialized by one monitor: one uncontended lock per register access and per duty cycle, no
 * allocation and no system call besides the TAP's own reads and writes.
 *
 * <p>Accounting ({@link E1000Accounting}): register accesses by register, and from the first frame the device sends
 * (the data path) the frames moved and the machine's VM exits, so that {@code vioplane run} can print exits per
 * frame. Config-space accesses are not serialized with the I/O thread (only the Status register's interrupt bit is
 * written there, by an atomic int store).
 */
public final class MachineE1000 implements MachineDevices.Plugged {
    /** The device number on bus 0. */
    public static final int SLOT = 2;
    /** INTA# swizzled onto the IOAPIC's PCI pins 16-19. */
    public static final int GSI = 16 + (SLOT + PciRegisters.INTERRUPT_PIN_A - 1) % 4;
    private static final String NAME = "e1000[0]";

    private final Object lock = new Object();
    private final Machine machine;
    private final CounterSet<E1000Counter> counters;
    private final DataPlane ioThread;
    private final E1000Link link;
    private final IrqLine irq;
    private final E1000PciFunction e1000;
    private final E1000Accounting accounting;
    private final String tapName;
    private E1000Accounting.Report report;
    private boolean closed;

    private MachineE1000(final Machine machine, final IntFunction<IrqLine> lines, final String tapName,
                         final long macAddress, final Counters processCounters, final ErrorLog log) {
        this.machine = machine;
        this.tapName = tapName;
        this.counters = new CounterSet<>(processCounters, E1000Counter.class, NAME, CounterType.DEVICE);
        this.ioThread = new DataPlane("vioplane-e1000-io", false,
                error -> log.failure(NAME + ": I/O thread: " + error));
        try {
            this.link = tapName == null ? E1000Link.discarding()
                    : E1000Link.tap(tapName, processCounters, ioThread, log);
        } catch (RuntimeException e) {
            ioThread.close();
            counters.close();
            throw e;
        }
        this.irq = lines.apply(GSI);
        this.e1000 = new E1000PciFunction(machine.memory(), link.port(), irq::set, DeviceClock.SYSTEM, macAddress,
                counters);
        e1000.device().autoNegotiationTime(E1000Link.AUTO_NEGOTIATION_NS);
        this.accounting = new E1000Accounting(counters, machine.counters());
    }

    /**
     * Plugs an e1000 into {@code machine} before it runs and starts its I/O thread.
     *
     * @param lines      gives the interrupt input of a GSI (KVM's in-kernel IOAPIC under {@code vioplane run})
     * @param tapName    the TAP to bridge onto (created if missing), or null to drop every frame
     * @param macAddress the EEPROM's Ethernet address, first octet in the low byte
     */
    public static MachineE1000 plug(final Machine machine, final IntFunction<IrqLine> lines, final String tapName,
                                    final long macAddress, final Counters counters, final ErrorLog log) {
        final MachineE1000 device = new MachineE1000(machine, lines, tapName, macAddress, counters, log);
        try {
            device.attach();
            return device;
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
    }

    private void attach() {
        final PciFunction function = e1000.function();
        function.config().set(PciRegisters.INTERRUPT_LINE, 1, GSI);
        function.barHandler(new SerializedBars());
        final PciPlatform pci = machine.pci();
        pci.attach(SLOT, 0, function);
        final long config = (long) SLOT << 15;
        pci.bridge().ecamWrite(config + PciRegisters.BAR0, 4, PciPlatform.BAR_WINDOW_GPA);
        pci.bridge().ecamWrite(config + PciRegisters.BAR0 + 4, 4, PciPlatform.IO_WINDOW_PORT);
        ioThread.add(new DutyCycle());
    }

    /** @return the device (registers, EEPROM); read it only after the run */
    public E1000PciFunction e1000() {
        return e1000;
    }

    /** @return the TAP the device is bridged onto, or null */
    public String tapName() {
        return tapName;
    }

    /** @return the device's counters */
    public CounterSet<E1000Counter> counters() {
        return counters;
    }

    /** @return what the device did during the run, once {@link #close()} ran; null before */
    public E1000Accounting.Report report() {
        return report;
    }

    /** Stops the I/O thread, takes the run's figures, and closes the device, the TAP and the counters. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            ioThread.close();
        } finally {
            synchronized (lock) {
                report = accounting.report();
            }
            try {
                e1000.close();
            } finally {
                try {
                    link.close();
                } finally {
                    counters.close();
                }
            }
        }
    }

    /** Register accesses from the vCPU thread, serialized with the I/O thread and counted by register. */
    private final class SerializedBars implements PciFunction.BarHandler {
        @Override
        public long read(final int bar, final long offset, final int sizeBytes) {
            synchronized (lock) {
                accounting.read(bar, offset);
                return e1000.read(bar, offset, sizeBytes);
            }
        }

        @Override
        public void write(final int bar, final long offset, final int sizeBytes, final long value) {
            synchronized (lock) {
                final boolean opensDataPath = accounting.beforeWrite(bar, offset);
                e1000.write(bar, offset, sizeBytes, value);
                accounting.afterWrite(opensDataPath, bar == E1000PciFunction.MMIO_BAR ? ExitReason.EPT_VIOLATION
                        : ExitReason.IO_INSTRUCTION);
            }
        }
    }

    /** The I/O thread's work: the TAP's frames into the bridge, then the device's receive side and timers. */
    private final class DutyCycle implements DataPlane.Pollable {
        @Override
        public int poll() {
            synchronized (lock) {
                return link.poll(e1000.device());
            }
        }

        /** The TAP wakes the thread when readable; auto-negotiation and moderation wait for the 100 ms park. */
        @Override
        public boolean readyToPark() {
            return true;
        }
    }
}

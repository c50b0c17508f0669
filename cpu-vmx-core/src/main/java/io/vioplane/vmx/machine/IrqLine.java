package io.vioplane.vmx.machine;

/**
 * A level-triggered interrupt input of the machine's interrupt controller: one legacy GSI (an IOAPIC pin), which a
 * PCI function's INTx# pin is wired to (PCI Local Bus 3.0, 2.2.6). The device drives it on every change of level;
 * the line may be driven from the vCPU thread or a device's I/O thread, one caller at a time.
 */
@FunctionalInterface
public interface IrqLine {
    /** Drives the line to {@code asserted}. */
    void set(boolean asserted);
}

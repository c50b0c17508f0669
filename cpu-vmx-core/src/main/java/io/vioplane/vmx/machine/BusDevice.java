package io.vioplane.vmx.machine;

/**
 * A device on the MMIO or the port-I/O bus: the machine hands it every guest access that falls into a range it
 * registered, with the offset from the start of that range. Values are little-endian, {@code sizeBytes} 1, 2, 4
 * or 8. Called on the vCPU thread; a device that finds the access wrong counts it and ignores it (reads: all
 * ones), as PCI hardware does for an unclaimed read.
 */
public interface BusDevice {
    /** @return the value the guest reads */
    long read(long offset, int sizeBytes);

    /** Applies a guest write. */
    void write(long offset, int sizeBytes, long value);
}

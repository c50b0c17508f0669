package io.vioplane.platform.pci;

/**
 * Offsets and bits of the type-0 configuration header (PCI Local Bus 3.0, 6.1-6.2; PCIe Base 6.x, 7.5.1) and the
 * capability IDs vioplane builds (PCI Code and ID Assignment 1.x, chapters 2 and 3).
 */
public final class PciRegisters {
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION_ID = 0x08;
    public static final int CLASS_CODE = 0x09;
    public static final int HEADER_TYPE = 0x0E;
    public static final int BAR0 = 0x10;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2C;
    public static final int SUBSYSTEM_ID = 0x2E;
    public static final int CAPABILITIES_POINTER = 0x34;
    public static final int INTERRUPT_LINE = 0x3C;
    public static final int INTERRUPT_PIN = 0x3D;
    public static final int FIRST_CAPABILITY = 0x40;
    public static final int EXTENDED_CAPABILITIES = 0x100;

    public static final int COMMAND_IO = 1;
    public static final int COMMAND_MEMORY = 1 << 1;
    public static final int COMMAND_BUS_MASTER = 1 << 2;
    public static final int COMMAND_INTX_DISABLE = 1 << 10;
    public static final int STATUS_CAPABILITIES = 1 << 4;
    /** Status bits 15:11 and 8 (parity, aborts, SERR): write-1-to-clear. */
    public static final int STATUS_ERRORS = 0xF900;

    public static final int CAP_PCI_EXPRESS = 0x10;
    public static final int CAP_MSI = 0x05;
    public static final int CAP_MSIX = 0x11;

    public static final int BAR_COUNT = 6;
    public static final int BAR_64BIT = 0x4;
    /** Bit 0 of an I/O space BAR. */
    public static final int BAR_IO_SPACE = 0x1;
    /** Status bit 3: the function's INTx is asserted (PCI Local Bus 3.0, 6.2.3). */
    public static final int STATUS_INTERRUPT = 1 << 3;
    public static final int INTERRUPT_PIN_A = 1;
    public static final int BAR_PREFETCHABLE = 0x8;

    private PciRegisters() {
    }
}

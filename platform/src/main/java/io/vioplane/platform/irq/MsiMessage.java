package io.vioplane.platform.irq;

/**
 * A message-signalled interrupt: the 64-bit address and 32-bit data a device writes to raise it (PCI Local
 * Bus 3.0 section 6.8; x86 format: Intel SDM Vol. 3A section 11.11.1, and VT-d 3.x section 5.1.2 for the
 * remappable format).
 *
 * <pre>
 *   address (compatibility format)       data
 *   31..20  0xFEE                        7..0   vector
 *   19..12  destination APIC id          10..8  delivery mode
 *   4       interrupt format (1 = remappable)  14 level (assert)
 *   3       redirection hint             15     trigger mode (1 = level)
 *   2       destination mode (1 = logical)
 * </pre>
 *
 * @param address the address the device writes
 * @param data    the value the device writes (low 32 bits)
 */
public record MsiMessage(long address, int data) {
    /** The base of the x86 interrupt address window. */
    public static final long INTERRUPT_WINDOW_BASE = 0xFEE0_0000L;

    /** @return true if the address lies in the x86 interrupt window 0xFEExxxxx */
    public boolean isInterruptWindow() {
        return (address & 0xFFFF_FFFF_FFF0_0000L) == INTERRUPT_WINDOW_BASE;
    }

    /** @return the destination APIC id (compatibility format) */
    public int destinationId() {
        return (int) (address >>> 12) & 0xFF;
    }

    /** @return true for logical destination mode */
    public boolean logicalDestination() {
        return (address & 0x4) != 0;
    }

    /** @return true if the redirection hint is set */
    public boolean redirectionHint() {
        return (address & 0x8) != 0;
    }

    /** @return true if the address is in VT-d's remappable format (bit 4) */
    public boolean remappable() {
        return (address & 0x10) != 0;
    }

    /** @return the interrupt vector */
    public int vector() {
        return data & 0xFF;
    }

    /** @return the delivery mode (0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT) */
    public int deliveryMode() {
        return (data >>> 8) & 0x7;
    }

    /** @return true for a level-triggered interrupt */
    public boolean levelTriggered() {
        return (data & 0x8000) != 0;
    }

    /** @return a fixed, edge-triggered, physical-destination message for {@code vector} on APIC {@code apicId} */
    public static MsiMessage fixed(final int apicId, final int vector) {
        if (apicId < 0 || apicId > 0xFF || vector < 0x10 || vector > 0xFF) {
            throw new IllegalArgumentException("apic id 0..255 and vector 16..255 required: " + apicId + ", " + vector);
        }
        return new MsiMessage(INTERRUPT_WINDOW_BASE | ((long) apicId << 12), vector);
    }

    @Override
    public String toString() {
        return "MsiMessage[address=0x" + Long.toHexString(address) + ", data=0x" + Integer.toHexString(data) + "]";
    }
}

package io.vioplane.platform.pci;

import io.vioplane.platform.irq.MsiMessage;

/**
 * The MSI capability, 64-bit address form with one vector (PCI Local Bus 3.0, 6.8.1):
 *
 * <pre>
 *   +0 ID 0x05, next     +2 message control: bit 0 enable (RW), bits 3:1 multiple message capable (0),
 *                           bits 6:4 multiple message enable (RW), bit 7 64-bit capable (1)
 *   +4 message address (RW, bits 1:0 reserved)   +8 message upper address (RW)   +12 message data (RW, 16 bits)
 * </pre>
 */
public final class MsiCapability {
    private static final int LENGTH_BYTES = 14;
    private static final int CONTROL_ENABLE = 1;
    private static final int CONTROL_64BIT = 1 << 7;

    private final PciFunction function;
    private final int offset;

    /** Adds the capability to {@code function}. */
    public MsiCapability(final PciFunction function) {
        this.function = function;
        this.offset = function.addCapability(PciRegisters.CAP_MSI, LENGTH_BYTES);
        final ConfigSpace config = function.config();
        config.set(offset + 2, 2, CONTROL_64BIT);
        config.writable(offset + 2, 2, CONTROL_ENABLE | 0x70);
        config.writable(offset + 4, 4, 0xFFFF_FFFC);
        config.writable(offset + 8, 4, 0xFFFF_FFFF);
        config.writable(offset + 12, 2, 0xFFFF);
    }

    /** @return the capability's offset */
    public int offset() {
        return offset;
    }

    /** @return whether the guest enabled MSI */
    public boolean enabled() {
        return (function.config().get(offset + 2, 2) & CONTROL_ENABLE) != 0;
    }

    /** @return the message the guest programmed */
    public MsiMessage message() {
        final ConfigSpace config = function.config();
        final long address = (config.get(offset + 4, 4) & 0xFFFF_FFFFL) | ((long) config.get(offset + 8, 4) << 32);
        return new MsiMessage(address, config.get(offset + 12, 2));
    }
}

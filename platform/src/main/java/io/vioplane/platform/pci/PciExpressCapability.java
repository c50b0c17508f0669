package io.vioplane.platform.pci;

/**
 * The PCI Express capability of a root-complex integrated endpoint, version 2 (PCIe Base 6.x, 7.5.3): 0x3C bytes,
 * device control writable, device status error bits write-1-to-clear, everything else read-only.
 */
public final class PciExpressCapability {
    private static final int LENGTH_BYTES = 0x3C;
    private static final int VERSION_2 = 2;
    private static final int ROOT_COMPLEX_INTEGRATED_ENDPOINT = 0x9 << 4;

    private final int offset;

    /** Adds the capability to {@code function}. */
    public PciExpressCapability(final PciFunction function) {
        this.offset = function.addCapability(PciRegisters.CAP_PCI_EXPRESS, LENGTH_BYTES);
        final ConfigSpace config = function.config();
        config.set(offset + 2, 2, VERSION_2 | ROOT_COMPLEX_INTEGRATED_ENDPOINT);
        config.writable(offset + 8, 2, 0x7FFF);
        config.writeOneToClear(offset + 10, 2, 0x000F);
    }

    /** @return the capability's offset */
    public int offset() {
        return offset;
    }
}

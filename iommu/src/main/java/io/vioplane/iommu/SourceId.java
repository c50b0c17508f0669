package io.vioplane.iommu;

/**
 * The 16-bit requester ID of PCI Express (bus[15:8], device[7:3], function[2:0]) that VT-d indexes its root and
 * context tables with (VT-d 3.x section 3.4.1).
 */
public final class SourceId {
    private SourceId() {
    }

    /** @return the source ID of {@code bus:device.function} */
    public static int of(final int bus, final int device, final int function) {
        if (bus < 0 || bus > 0xFF || device < 0 || device > 0x1F || function < 0 || function > 7) {
            throw new IllegalArgumentException("bus 0..255, device 0..31, function 0..7 required: "
                    + bus + ":" + device + "." + function);
        }
        return bus << 8 | device << 3 | function;
    }

    /** @return the bus number of {@code sourceId} */
    public static int bus(final int sourceId) {
        return (sourceId >>> 8) & 0xFF;
    }

    /** @return the device/function byte of {@code sourceId} */
    public static int devfn(final int sourceId) {
        return sourceId & 0xFF;
    }

    /** @return {@code bb:dd.f} in hex, as lspci prints it */
    public static String format(final int sourceId) {
        return String.format("%02x:%02x.%x", bus(sourceId), devfn(sourceId) >>> 3, sourceId & 7);
    }
}

package io.vioplane.platform.pci;

/**
 * The host bridge of PCI segment 0, bus 0: its own function at 00:00.0 and up to 32 devices of 8 functions,
 * reachable through ECAM (PCIe Base 6.x, 7.2.2: offset = bus << 20 | device << 15 | function << 12 | register) at
 * a fixed guest-physical address, and through the CF8/CFC mechanism (PCI Local Bus 3.0, 3.2.2.3.2: CONFIG_ADDRESS
 * bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register) for guests that can use port I/O.
 *
 * <p>An access to a function that does not exist reads all ones and writes nothing, as a master abort does.
 * Malformed accesses (unaligned, wrong size) are counted in {@link #malformedAccesses()}.
 */
public final class PciHostBridge {
    /** Where the machine maps ECAM: 0xB0000000, where QEMU's q35 puts it too. */
    public static final long ECAM_GPA = 0xB000_0000L;
    /** ECAM for bus 0 only: 32 devices x 8 functions x 4 KiB. */
    public static final long ECAM_BYTES = 1L << 20;
    public static final int CONFIG_ADDRESS_PORT = 0xCF8;
    public static final int CONFIG_DATA_PORT = 0xCFC;
    private static final int HOST_BRIDGE_CLASS = 0x060000;

    private final PciFunction[] functions = new PciFunction[32 * 8];
    private int configAddress;
    private long malformedAccesses;

    /**
     * @param vendorId the bridge's own IDs, e.g. 0x1B36 / 0x0008 (the generic PCIe host bridge ID Linux knows)
     */
    public PciHostBridge(final int vendorId, final int deviceId) {
        functions[0] = new PciFunction(vendorId, deviceId, HOST_BRIDGE_CLASS, 0);
    }

    /** Places {@code function} at 00:{@code device}.{@code functionNumber}. */
    public void attach(final int device, final int functionNumber, final PciFunction function) {
        if (device < 0 || device > 31 || functionNumber < 0 || functionNumber > 7) {
            throw new IllegalArgumentException("no slot 00:" + device + "." + functionNumber);
        }
        final int index = device * 8 + functionNumber;
        if (functions[index] != null) {
            throw new IllegalStateException("slot 00:" + device + "." + functionNumber + " is taken");
        }
        if (functionNumber != 0 && functions[device * 8] == null) {
            throw new IllegalStateException("function 0 of device " + device + " must exist before function "
                    + functionNumber);
        }
        functions[index] = function;
        if (functionNumber != 0) {
            final ConfigSpace first = functions[device * 8].config();
            first.set(PciRegisters.HEADER_TYPE, 1, first.get(PciRegisters.HEADER_TYPE, 1) | 0x80);
        }
    }

    /** @return the function at 00:{@code device}.{@code functionNumber}, or null */
    public PciFunction function(final int device, final int functionNumber) {
        return functions[device * 8 + functionNumber];
    }

    /** A guest read of ECAM at {@code offset} from {@link #ECAM_GPA}. */
    public long ecamRead(final long offset, final int sizeBytes) {
        final PciFunction function = ecamFunction(offset);
        final int register = (int) (offset & 0xFFF);
        if (!ConfigSpace.wellFormed(register, sizeBytes)) {
            malformedAccesses++;
            return allOnes(sizeBytes);
        }
        return function == null ? allOnes(sizeBytes) : function.readConfig(register, sizeBytes) & mask(sizeBytes);
    }

    /** A guest write of ECAM. */
    public void ecamWrite(final long offset, final int sizeBytes, final long value) {
        final PciFunction function = ecamFunction(offset);
        final int register = (int) (offset & 0xFFF);
        if (!ConfigSpace.wellFormed(register, sizeBytes)) {
            malformedAccesses++;
            return;
        }
        if (function != null) {
            function.writeConfig(register, sizeBytes, (int) value);
        }
    }

    private PciFunction ecamFunction(final long offset) {
        if (offset < 0 || offset >= ECAM_BYTES) {
            return null;
        }
        return functions[(int) (offset >>> 12) & 0xFF];
    }

    /** A guest IN from {@code port} (0xCF8-0xCFF). */
    public long portRead(final int port, final int sizeBytes) {
        if (port == CONFIG_ADDRESS_PORT && sizeBytes == 4) {
            return configAddress & 0xFFFF_FFFFL;
        }
        if (port >= CONFIG_DATA_PORT && port + sizeBytes <= CONFIG_DATA_PORT + 4) {
            final long ecamOffset = selectedEcamOffset();
            return ecamOffset < 0 ? allOnes(sizeBytes) : ecamRead(ecamOffset + (port - CONFIG_DATA_PORT), sizeBytes);
        }
        malformedAccesses++;
        return allOnes(sizeBytes);
    }

    /** A guest OUT to {@code port}. */
    public void portWrite(final int port, final int sizeBytes, final long value) {
        if (port == CONFIG_ADDRESS_PORT && sizeBytes == 4) {
            configAddress = (int) value & 0x80FF_FFFC;
        } else if (port >= CONFIG_DATA_PORT && port + sizeBytes <= CONFIG_DATA_PORT + 4) {
            final long ecamOffset = selectedEcamOffset();
            if (ecamOffset >= 0) {
                ecamWrite(ecamOffset + (port - CONFIG_DATA_PORT), sizeBytes, value);
            }
        } else {
            malformedAccesses++;
        }
    }

    /** @return the ECAM offset CONFIG_ADDRESS selects on bus 0, or -1 when disabled or another bus */
    private long selectedEcamOffset() {
        final int address = configAddress;
        if (address >= 0 || ((address >>> 16) & 0xFF) != 0) {
            return -1;
        }
        return (long) ((address >>> 8) & 0xFF) << 12 | (address & 0xFC);
    }

    /** @return accesses refused as malformed */
    public long malformedAccesses() {
        return malformedAccesses;
    }

    private static long mask(final int sizeBytes) {
        return sizeBytes >= 8 ? -1L : (1L << (8 * sizeBytes)) - 1;
    }

    private static long allOnes(final int sizeBytes) {
        return mask(sizeBytes);
    }
}

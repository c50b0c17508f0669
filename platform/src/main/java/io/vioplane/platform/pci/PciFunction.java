package io.vioplane.platform.pci;

import static io.vioplane.platform.pci.PciRegisters.BAR0;
import static io.vioplane.platform.pci.PciRegisters.BAR_64BIT;
import static io.vioplane.platform.pci.PciRegisters.BAR_COUNT;
import static io.vioplane.platform.pci.PciRegisters.BAR_IO_SPACE;
import static io.vioplane.platform.pci.PciRegisters.CAPABILITIES_POINTER;
import static io.vioplane.platform.pci.PciRegisters.COMMAND;
import static io.vioplane.platform.pci.PciRegisters.COMMAND_IO;
import static io.vioplane.platform.pci.PciRegisters.COMMAND_MEMORY;

/**
 * A PCI function: its {@link ConfigSpace} with a type-0 header, up to six BARs (memory, 32- or 64-bit, or I/O space,
 * PCI Local Bus 3.0, 6.2.5.1), and the capability lists (PCI Local Bus 3.0, 6.7; PCIe Base 6.x, 7.6 extended
 * capabilities from 0x100).
 *
 * <p>BAR sizing works the way the spec says without special cases: a BAR's writable mask is its address bits
 * only, so after the guest writes all ones it reads back the size mask with the type bits (PCI 3.0, 6.2.5.1). After
 * every guest write to a BAR or to the command register the {@link BarListener} hears where each BAR now decodes,
 * and it decides whether the placement is acceptable ({@link BarMap}).
 */
public final class PciFunction {
    private final ConfigSpace config = new ConfigSpace();
    private final long[] barSizes = new long[BAR_COUNT];
    private final boolean[] bar64 = new boolean[BAR_COUNT];
    private final boolean[] barIo = new boolean[BAR_COUNT];
    private int lastCapability;
    private int lastExtendedCapability;
    private int extendedLength;
    private final int[] capabilityLengths = new int[PciRegisters.EXTENDED_CAPABILITIES];
    private BarListener listener = BarListener.NONE;
    private BarHandler handler = BarHandler.NONE;

    /** Where a function's BARs decode, told after each guest write that may move them. */
    public interface BarListener {
        BarListener NONE = (function, bar, gpa, sizeBytes, decoding) -> { };

        /**
         * @param decoding whether memory decoding is on and the BAR holds an address (not the sizing pattern)
         */
        void barChanged(PciFunction function, int bar, long gpa, long sizeBytes, boolean decoding);
    }

    /**
     * The device logic behind a function's BARs: guest accesses at an offset into BAR {@code bar} (memory or I/O
     * space, as the BAR was declared).
     */
    public interface BarHandler {
        BarHandler NONE = new BarHandler() {
            @Override
            public long read(final int bar, final long offset, final int sizeBytes) {
                return -1L;
            }

            @Override
            public void write(final int bar, final long offset, final int sizeBytes, final long value) {
            }
        };

        long read(int bar, long offset, int sizeBytes);

        void write(int bar, long offset, int sizeBytes, long value);
    }

    /**
     * @param classCode base class, subclass and programming interface (e.g. 0x060000 host bridge)
     */
    public PciFunction(final int vendorId, final int deviceId, final int classCode, final int revision) {
        config.set(PciRegisters.VENDOR_ID, 2, vendorId);
        config.set(PciRegisters.DEVICE_ID, 2, deviceId);
        config.set(PciRegisters.REVISION_ID, 1, revision);
        config.set(PciRegisters.CLASS_CODE, 3, classCode);
        config.set(PciRegisters.SUBSYSTEM_VENDOR_ID, 2, vendorId);
        config.set(PciRegisters.SUBSYSTEM_ID, 2, deviceId);
        config.writable(COMMAND, 2, PciRegisters.COMMAND_IO | COMMAND_MEMORY | PciRegisters.COMMAND_BUS_MASTER
                | PciRegisters.COMMAND_INTX_DISABLE);
        config.writeOneToClear(PciRegisters.STATUS, 2, PciRegisters.STATUS_ERRORS);
        config.writable(PciRegisters.INTERRUPT_LINE, 1, 0xFF);
    }

    /** @return the configuration space (device model access) */
    public ConfigSpace config() {
        return config;
    }

    /** Sets the device logic behind the BARs. */
    public void barHandler(final BarHandler barHandler) {
        this.handler = barHandler;
    }

    /** @return the device logic behind the BARs */
    public BarHandler barHandler() {
        return handler;
    }

    /** Sets who hears about BAR placement. */
    public void listener(final BarListener barListener) {
        this.listener = barListener;
    }

    /**
     * Declares memory BAR {@code bar} of {@code sizeBytes} (a power of two, at least 4 KiB), 64-bit when
     * {@code wide} (then it also takes register {@code bar + 1}).
     */
    public void memoryBar(final int bar, final long sizeBytes, final boolean wide) {
        if (bar < 0 || bar >= BAR_COUNT || (wide && bar == BAR_COUNT - 1)) {
            throw new IllegalArgumentException("no BAR register " + bar + (wide ? " pair" : ""));
        }
        if (Long.bitCount(sizeBytes) != 1 || sizeBytes < 4096 || (!wide && sizeBytes > (1L << 31))) {
            throw new IllegalArgumentException("BAR size must be a power of two from 4 KiB: " + sizeBytes);
        }
        barSizes[bar] = sizeBytes;
        bar64[bar] = wide;
        final long addressMask = ~(sizeBytes - 1);
        config.set(BAR0 + 4 * bar, 4, wide ? BAR_64BIT : 0);
        config.writable(BAR0 + 4 * bar, 4, (int) addressMask & ~0xF);
        if (wide) {
            config.writable(BAR0 + 4 * (bar + 1), 4, (int) (addressMask >>> 32));
        }
    }

    /**
     * Declares I/O space BAR {@code bar} of {@code sizeBytes} ports (a power of two, 4-256: PCI Local Bus 3.0,
     * 6.2.5.1 limits an I/O BAR to 256 bytes). Bit 0 reads as 1 (I/O space indicator); the guest writes bits 31:2
     * above the size.
     */
    public void ioBar(final int bar, final int sizeBytes) {
        if (bar < 0 || bar >= BAR_COUNT) {
            throw new IllegalArgumentException("no BAR register " + bar);
        }
        if (Integer.bitCount(sizeBytes) != 1 || sizeBytes < 4 || sizeBytes > 256) {
            throw new IllegalArgumentException("I/O BAR size must be a power of two from 4 to 256: " + sizeBytes);
        }
        barSizes[bar] = sizeBytes;
        barIo[bar] = true;
        config.set(BAR0 + 4 * bar, 4, BAR_IO_SPACE);
        config.writable(BAR0 + 4 * bar, 4, ~(sizeBytes - 1) & ~0x3);
    }

    /** @return whether BAR {@code bar} is in I/O space (else memory) */
    public boolean barIsIo(final int bar) {
        return barIo[bar];
    }

    /** @return the size of BAR {@code bar}, 0 if it has none */
    public long barSize(final int bar) {
        return barSizes[bar];
    }

    /** @return the address BAR {@code bar} holds now */
    public long barAddress(final int bar) {
        if (barIo[bar]) {
            return config.get(BAR0 + 4 * bar, 4) & 0xFFFF_FFFCL;
        }
        final long low = config.get(BAR0 + 4 * bar, 4) & 0xFFFF_FFF0L;
        final long high = bar64[bar] ? (config.get(BAR0 + 4 * (bar + 1), 4) & 0xFFFF_FFFFL) << 32 : 0;
        return high | low;
    }

    /**
     * @return whether BAR {@code bar} decodes: memory (or, for an I/O BAR, I/O) space enabled in the command register
     *         and an address other than the sizing pattern
     */
    public boolean barDecoding(final int bar) {
        final int enable = barIo[bar] ? COMMAND_IO : COMMAND_MEMORY;
        if (barSizes[bar] == 0 || (config.get(COMMAND, 2) & enable) == 0) {
            return false;
        }
        final long address = barAddress(bar);
        final long sizingPattern = (bar64[bar] ? -1L : 0xFFFF_FFFFL) & ~(barSizes[bar] - 1) & (barIo[bar] ? ~0x3L : -1L);
        return address != 0 && address != sizingPattern;
    }

    /** A guest configuration read. */
    public int readConfig(final int offset, final int sizeBytes) {
        return config.read(offset, sizeBytes);
    }

    /**
     * A guest configuration write, through the masks; tells the listener when a BAR or the command register changed.
     *
     * @return false if the access was malformed
     */
    public boolean writeConfig(final int offset, final int sizeBytes, final int value) {
        if (!config.write(offset, sizeBytes, value)) {
            return false;
        }
        final boolean touchesCommand = offset <= COMMAND + 1 && offset + sizeBytes > COMMAND;
        final boolean touchesBars = offset < BAR0 + 4 * BAR_COUNT && offset + sizeBytes > BAR0;
        if (touchesCommand || touchesBars) {
            for (int bar = 0; bar < BAR_COUNT; bar++) {
                if (barSizes[bar] != 0) {
                    listener.barChanged(this, bar, barAddress(bar), barSizes[bar], barDecoding(bar));
                }
            }
        }
        return true;
    }

    /**
     * Appends a capability of {@code lengthBytes} (including its 2-byte header) with ID {@code id} to the list.
     *
     * @return its offset in configuration space
     */
    public int addCapability(final int id, final int lengthBytes) {
        final int offset = lastCapability == 0 ? PciRegisters.FIRST_CAPABILITY
                : align4(lastCapability + capabilityLength(lastCapability));
        if (offset + lengthBytes > PciRegisters.EXTENDED_CAPABILITIES) {
            throw new IllegalStateException("no room for capability 0x" + Integer.toHexString(id));
        }
        config.set(offset, 1, id);
        config.set(offset + 1, 1, 0);
        capabilityLengths[offset] = lengthBytes;
        if (lastCapability == 0) {
            config.set(CAPABILITIES_POINTER, 1, offset);
            config.set(PciRegisters.STATUS, 2, config.get(PciRegisters.STATUS, 2) | PciRegisters.STATUS_CAPABILITIES);
        } else {
            config.set(lastCapability + 1, 1, offset);
        }
        lastCapability = offset;
        return offset;
    }

    private int capabilityLength(final int offset) {
        return capabilityLengths[offset];
    }

    /**
     * Appends an extended capability (PCIe Base 6.x, 7.6.3 header: ID 15:0, version 19:16, next 31:20).
     *
     * @return its offset, from 0x100
     */
    public int addExtendedCapability(final int id, final int version, final int lengthBytes) {
        final int offset = lastExtendedCapability == 0 ? PciRegisters.EXTENDED_CAPABILITIES
                : align4(lastExtendedCapability + extendedLength);
        if (offset + lengthBytes > ConfigSpace.SIZE_BYTES) {
            throw new IllegalStateException("no room for extended capability 0x" + Integer.toHexString(id));
        }
        config.set(offset, 4, (id & 0xFFFF) | ((version & 0xF) << 16));
        if (lastExtendedCapability != 0) {
            final int previous = config.get(lastExtendedCapability, 4);
            config.set(lastExtendedCapability, 4, (previous & 0xFFFFF) | (offset << 20));
        }
        lastExtendedCapability = offset;
        extendedLength = lengthBytes;
        return offset;
    }

    private static int align4(final int value) {
        return (value + 3) & ~3;
    }
}

package io.vioplane.vmx.machine;

import io.vioplane.platform.pci.BarMap;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.pci.PciHostBridge;

/**
 * The machine's PCI: a {@link PciHostBridge} reachable through ECAM at {@link PciHostBridge#ECAM_GPA} and through
 * ports 0xCF8-0xCFF, the memory window where the guest places memory BARs and the port window where it places I/O
 * BARs (one {@link BarMap} each), as four bus devices.
 *
 * <pre>
 *   0xB0000000 - 0xB00FFFFF  ECAM, bus 0
 *   0xE0000000 - 0xEFFFFFFF  memory BAR window
 *   ports 0xCF8 - 0xCFF      CONFIG_ADDRESS / CONFIG_DATA
 *   ports 0xC000 - 0xFFFF    I/O BAR window
 * </pre>
 */
public final class PciPlatform {
    public static final long BAR_WINDOW_GPA = 0xE000_0000L;
    public static final long BAR_WINDOW_BYTES = 0x1000_0000L;
    /** The first port of the I/O BAR window (where QEMU's q35 firmware starts placing I/O BARs too). */
    public static final int IO_WINDOW_PORT = 0xC000;
    public static final int IO_WINDOW_PORTS = 0x4000;
    /** Red Hat's generic PCIe host bridge ID (1b36:0008), which Linux treats as a plain host bridge. */
    private static final int HOST_BRIDGE_VENDOR = 0x1B36;
    private static final int HOST_BRIDGE_DEVICE = 0x0008;

    private final PciHostBridge bridge = new PciHostBridge(HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE);
    private final BarMap bars = new BarMap(BAR_WINDOW_GPA, BAR_WINDOW_BYTES);
    private final BarMap ioBars = new BarMap(IO_WINDOW_PORT, IO_WINDOW_PORTS, true);
    private final PciFunction.BarListener listener = (function, bar, start, sizeBytes, decoding) -> {
        bars.barChanged(function, bar, start, sizeBytes, decoding);
        ioBars.barChanged(function, bar, start, sizeBytes, decoding);
    };
    private final ExitCounters counters;

    PciPlatform(final Bus mmio, final Bus ports, final ExitCounters counters) {
        this.counters = counters;
        mmio.register(new AddressRange(PciHostBridge.ECAM_GPA, PciHostBridge.ECAM_BYTES, "PCI ECAM"), new Ecam());
        mmio.register(new AddressRange(BAR_WINDOW_GPA, BAR_WINDOW_BYTES, "PCI BAR window"),
                new BarWindow(bars, BAR_WINDOW_GPA));
        ports.register(new AddressRange(PciHostBridge.CONFIG_ADDRESS_PORT, 8, "PCI CF8/CFC"), new ConfigPorts());
        ports.register(new AddressRange(IO_WINDOW_PORT, IO_WINDOW_PORTS, "PCI I/O BAR window"),
                new BarWindow(ioBars, IO_WINDOW_PORT));
        bridge.function(0, 0).listener(listener);
    }

    /** Plugs {@code function} in at 00:{@code device}.{@code functionNumber}; its BARs go through the windows. */
    public void attach(final int device, final int functionNumber, final PciFunction function) {
        function.listener(listener);
        bridge.attach(device, functionNumber, function);
    }

    /** @return the host bridge */
    public PciHostBridge bridge() {
        return bridge;
    }

    /** @return where the memory BARs decode */
    public BarMap bars() {
        return bars;
    }

    /** @return where the I/O BARs decode (ports) */
    public BarMap ioBars() {
        return ioBars;
    }

    private final class Ecam implements BusDevice {
        @Override
        public long read(final long offset, final int sizeBytes) {
            return bridge.ecamRead(offset, sizeBytes);
        }

        @Override
        public void write(final long offset, final int sizeBytes, final long value) {
            bridge.ecamWrite(offset, sizeBytes, value);
        }
    }

    private final class ConfigPorts implements BusDevice {
        @Override
        public long read(final long offset, final int sizeBytes) {
            return bridge.portRead(PciHostBridge.CONFIG_ADDRESS_PORT + (int) offset, sizeBytes);
        }

        @Override
        public void write(final long offset, final int sizeBytes, final long value) {
            bridge.portWrite(PciHostBridge.CONFIG_ADDRESS_PORT + (int) offset, sizeBytes, value);
        }
    }

    /** A window of BARs: memory (gpa) or I/O (ports); an access no BAR claims reads all ones and is counted. */
    private final class BarWindow implements BusDevice {
        private final BarMap map;
        private final long windowStart;

        BarWindow(final BarMap map, final long windowStart) {
            this.map = map;
            this.windowStart = windowStart;
        }

        @Override
        public long read(final long offset, final int sizeBytes) {
            final BarMap.Placement placement = map.find(windowStart + offset);
            if (placement == null || windowStart + offset + sizeBytes > placement.gpa() + placement.sizeBytes()) {
                counters.fault(GuestFault.BAR_WINDOW_UNCLAIMED);
                return -1L;
            }
            return placement.function().barHandler().read(placement.bar(), windowStart + offset - placement.gpa(),
                    sizeBytes);
        }

        @Override
        public void write(final long offset, final int sizeBytes, final long value) {
            final BarMap.Placement placement = map.find(windowStart + offset);
            if (placement == null || windowStart + offset + sizeBytes > placement.gpa() + placement.sizeBytes()) {
                counters.fault(GuestFault.BAR_WINDOW_UNCLAIMED);
                return;
            }
            placement.function().barHandler().write(placement.bar(), windowStart + offset - placement.gpa(),
                    sizeBytes, value);
        }
    }
}

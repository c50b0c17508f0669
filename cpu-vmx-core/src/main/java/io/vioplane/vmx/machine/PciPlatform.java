package io.vioplane.vmx.machine;

import io.vioplane.platform.pci.BarMap;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.pci.PciHostBridge;

/**
 * The machine's PCI: a {@link PciHostBridge} reachable through ECAM at {@link PciHostBridge#ECAM_GPA} and through
 * ports 0xCF8-0xCFF, and the memory window where the guest places BARs ({@link BarMap}), as three bus devices.
 *
 * <pre>
 *   0xB0000000 - 0xB00FFFFF  ECAM, bus 0
 *   0xE0000000 - 0xEFFFFFFF  BAR window
 *   ports 0xCF8 - 0xCFF      CONFIG_ADDRESS / CONFIG_DATA
 * </pre>
 */
public final class PciPlatform {
    public static final long BAR_WINDOW_GPA = 0xE000_0000L;
    public static final long BAR_WINDOW_BYTES = 0x1000_0000L;
    /** Red Hat's generic PCIe host bridge ID (1b36:0008), which Linux treats as a plain host bridge. */
    private static final int HOST_BRIDGE_VENDOR = 0x1B36;
    private static final int HOST_BRIDGE_DEVICE = 0x0008;

    private final PciHostBridge bridge = new PciHostBridge(HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE);
    private final BarMap bars = new BarMap(BAR_WINDOW_GPA, BAR_WINDOW_BYTES);
    private final ExitCounters counters;

    PciPlatform(final Bus mmio, final Bus ports, final ExitCounters counters) {
        this.counters = counters;
        mmio.register(new AddressRange(PciHostBridge.ECAM_GPA, PciHostBridge.ECAM_BYTES, "PCI ECAM"), new Ecam());
        mmio.register(new AddressRange(BAR_WINDOW_GPA, BAR_WINDOW_BYTES, "PCI BAR window"), new BarWindow());
        ports.register(new AddressRange(PciHostBridge.CONFIG_ADDRESS_PORT, 8, "PCI CF8/CFC"), new ConfigPorts());
        bridge.function(0, 0).listener(bars);
    }

    /** Plugs {@code function} in at 00:{@code device}.{@code functionNumber}; its BARs go through the window. */
    public void attach(final int device, final int functionNumber, final PciFunction function) {
        function.listener(bars);
        bridge.attach(device, functionNumber, function);
    }

    /** @return the host bridge */
    public PciHostBridge bridge() {
        return bridge;
    }

    /** @return where the BARs decode */
    public BarMap bars() {
        return bars;
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

    private final class BarWindow implements BusDevice {
        @Override
        public long read(final long offset, final int sizeBytes) {
            final BarMap.Placement placement = bars.find(BAR_WINDOW_GPA + offset);
            if (placement == null) {
                counters.fault(GuestFault.BAR_WINDOW_UNCLAIMED);
                return -1L;
            }
            return placement.function().barHandler().read(placement.bar(), BAR_WINDOW_GPA + offset - placement.gpa(),
                    sizeBytes);
        }

        @Override
        public void write(final long offset, final int sizeBytes, final long value) {
            final BarMap.Placement placement = bars.find(BAR_WINDOW_GPA + offset);
            if (placement == null) {
                counters.fault(GuestFault.BAR_WINDOW_UNCLAIMED);
                return;
            }
            placement.function().barHandler().write(placement.bar(), BAR_WINDOW_GPA + offset - placement.gpa(),
                    sizeBytes, value);
        }
    }
}

package io.vioplane.vmx;

import io.vioplane.iommu.VtdConfig;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.loader.AcpiTables;
import io.vioplane.vmx.loader.ElfImage;
import io.vioplane.vmx.loader.ImageException;
import io.vioplane.vmx.loader.ImageLoader;
import io.vioplane.vmx.machine.GuestConsole;
import io.vioplane.vmx.machine.Machine;
import io.vioplane.vmx.machine.MachineDevices;
import io.vioplane.vmx.machine.RunOutcome;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.machine.VtdMmioDevice;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs one guest image from start to end: reads and checks the ELF, builds a {@link Machine} of the given size,
 * places the image, runs it and tears everything down. What {@code vioplane run} and the guest tests use.
 *
 * @param memoryBytes guest RAM from GPA 0
 * @param console     where the guest's console lines go
 * @param log         the process's log: how each run ended
 * @param watchdog    how long the guest may go without a VM exit
 * @param iommu       the machine's VT-d unit ({@link Machine#attachIommu}, described by a DMAR table, VT-d 3.x
 *                    chapter 8), or null for none
 */
public record GuestRun(long memoryBytes, Counters counters, GuestConsole console, ErrorLog log, Duration watchdog,
                       VtdConfig iommu) {
    /** ECAP.IR (VT-d 3.x section 11.4.3): interrupt remapping supported. */
    private static final long ECAP_IR = 1L << 3;

    /** A run on a machine without an IOMMU. */
    public GuestRun(final long memoryBytes, final Counters counters, final GuestConsole console, final ErrorLog log,
                    final Duration watchdog) {
        this(memoryBytes, counters, console, log, watchdog, null);
    }

    /**
     * @throws ImageException naming {@code image} when the image is refused
     */
    public RunOutcome run(final Path image, final VcpuBackend backend) {
        return run(ImageLoader.read(image), image, backend);
    }

    /**
     * Runs an image already read with {@link ImageLoader#read}.
     *
     * @param image names the image in errors and counters
     * @throws ImageException naming {@code image} when a segment does not fit the machine's memory
     */
    public RunOutcome run(final ElfImage elf, final Path image, final VcpuBackend backend) {
        return run(elf, image, backend, MachineDevices.NONE);
    }

    /**
     * Runs an image with {@code devices} plugged into the machine before it starts and unplugged after it ends.
     *
     * @param image names the image in errors and counters
     * @throws ImageException naming {@code image} when a segment does not fit the machine's memory
     */
    public RunOutcome run(final ElfImage elf, final Path image, final VcpuBackend backend,
                          final MachineDevices devices) {
        try (Machine machine = new Machine(image.getFileName().toString(), memoryBytes, backend, counters, console,
                log, watchdog)) {
            final AcpiTables.Dmar dmar = iommu == null ? null : dmar(machine.attachIommu(iommu));
            final BootCpuState boot;
            try {
                boot = ImageLoader.load(elf, machine.memory(), machine.guestRing(), dmar);
            } catch (ImageException e) {
                throw new ImageException(image + ": " + e.getMessage());
            }
            try (MachineDevices.Plugged plugged = devices.plug(machine)) {
                return machine.run(boot, memoryBytes);
            }
        }
    }

    /**
     * @return how the DMAR table describes {@code device}: HAW = MGAW (the model's host is the guest-physical space,
     *     {@link VtdConfig}), INTR_REMAP from ECAP.IR (VT-d 3.x section 11.4.3)
     */
    public static AcpiTables.Dmar dmar(final VtdMmioDevice device) {
        final VtdConfig config = device.unit().config();
        final boolean interruptRemapping = (config.extendedCapability() & ECAP_IR) != 0;
        return new AcpiTables.Dmar(device.baseGpa(), config.mgawBits(), interruptRemapping,
                device.registerPagesLog2());
    }
}

package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.cli.nic.MachineE1000;
import io.vioplane.iommu.VtdConfig;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.vmx.GuestRun;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.kvm.KvmBackend;
import io.vioplane.vmx.loader.ElfImage;
import io.vioplane.vmx.loader.ImageException;
import io.vioplane.vmx.loader.ImageLoader;
import io.vioplane.vmx.machine.MachineDevices;
import io.vioplane.vmx.machine.RunOutcome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code vioplane run GUEST.elf}: runs one of the project's guest images on /dev/kvm, streams its console, and at
 * the end prints its result line and its VM exits by VT-x basic reason (Intel SDM Vol. 3, Appendix C).
 * {@code --device iommu} gives the machine a VT-d unit (VT-d 3.x; registers at 0xFED90000) and the ACPI tables that
 * describe it (RSDP at 0xF0000, XSDT, DMAR: VT-d 3.x chapter 8).
 * {@code --device e1000 [--tap NAME]} plugs in an 82540EM ({@link MachineE1000}) and adds its frames and exits per
 * frame to the report.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a vioplane guest image (ELF64) on /dev/kvm; print its result and exits by VT-x reason.")
final class RunCommand implements Callable<Integer> {
    /** {@code --device iommu}: the machine gets a VT-d unit ({@code Machine#attachIommu}). */
    static final String IOMMU_DEVICE = "iommu";
    static final String E1000_DEVICE = "e1000";
    private static final List<String> KNOWN_DEVICES = List.of(E1000_DEVICE, IOMMU_DEVICE);

    @Parameters(index = "0", paramLabel = "GUEST.elf", description = "The guest image.")
    private Path image;

    @Option(names = "--memory", paramLabel = "SIZE",
            description = "Guest RAM, e.g. 64M, 1G (default: ${DEFAULT-VALUE}).")
    private String memory = "64M";

    @Option(names = "--device", paramLabel = "NAME", split = ",",
            description = "Devices to attach besides the built-in debug device: e1000 (an Intel 82540EM at 00:02.0, "
                    + "INTA# on GSI 18), iommu (a VT-d unit, registers at 0xFED90000, described by ACPI "
                    + "DMAR/XSDT/RSDP tables at 0xF0000).")
    private List<String> devices = List.of();

    @Option(names = "--tap", paramLabel = "NAME",
            description = "Bridge the e1000 onto this TAP device (created if missing); without it frames are dropped.")
    private String tapName;

    @Option(names = "--mac", paramLabel = "MAC",
            description = "The e1000's EEPROM Ethernet address (default: ${DEFAULT-VALUE}).")
    private String mac = "52:54:00:12:34:56";

    @Option(names = "--watchdog", paramLabel = "SECONDS",
            description = "Stop a guest that makes no VM exit for this long (default: ${DEFAULT-VALUE}).")
    private int watchdogSeconds = 10;

    @Override
    public Integer call() {
        final PrintStream out = System.out;
        final long memoryBytes;
        try {
            memoryBytes = parseSize(memory);
        } catch (IllegalArgumentException e) {
            throw UserError.usage("--memory", e.getMessage());
        }
        final Set<String> requested = requestedDevices(devices);
        final VtdConfig iommu = requested.contains(IOMMU_DEVICE) ? VtdConfig.standard() : null;
        final boolean e1000 = requested.contains(E1000_DEVICE);
        final long macAddress;
        try {
            macAddress = E1000RemoteCommand.parseMac(mac);
        } catch (IllegalArgumentException e) {
            throw UserError.usage("--mac", e.getMessage());
        }
        if (tapName != null) {
            if (!e1000) {
                throw UserError.usage("--tap", "needs --device e1000");
            }
            ArgumentChecks.checkInterfaceName("--tap", tapName);
        }
        final ElfImage elf;
        try {
            elf = ImageLoader.read(image);
        } catch (ImageException e) {
            throw UserError.usage(null, e.getMessage());
        }
        if (!Kvm.available()) {
            throw UserError.failure(Kvm.DEVICE.toString(), "missing or not accessible: cannot run " + image);
        }
        try (CountersFile countersFile = CountersFile.create("vioplane run " + image)) {
            final Counters counters = Counters.in(countersFile);
            final ErrorLog log = ErrorLog.in(countersFile, System.err);
            final GuestRun run = new GuestRun(memoryBytes, counters, out::println, log,
                    Duration.ofSeconds(watchdogSeconds), iommu);
            final KvmBackend backend = new KvmBackend();
            final AtomicReference<MachineE1000> plugged = new AtomicReference<>();
            final MachineDevices machineDevices = !e1000 ? MachineDevices.NONE : machine -> {
                plugged.set(ArgumentChecks.starting(() -> MachineE1000.plug(machine, backend::irqLine, tapName,
                        macAddress, counters, log)));
                return plugged.get();
            };
            final RunOutcome outcome = run.run(elf, image, backend, machineDevices);
            print(outcome, out);
            if (plugged.get() != null) {
                final MachineE1000 device = plugged.get();
                device.report().print(String.format(Locale.ROOT, "e1000 00:%02x.0 (INTA# on GSI %d, %s)",
                        MachineE1000.SLOT, MachineE1000.GSI, device.tapName() == null ? "no TAP"
                                : "TAP " + device.tapName()), out);
            }
            return outcome.succeeded() ? 0 : ExitCodes.FAILURE;
        } catch (ImageException e) {
            throw UserError.usage(null, e.getMessage());
        }
    }

    /**
     * @return the devices {@code names} asks for, each once
     * @throws UserError naming a device that does not exist, or a device named twice
     */
    static Set<String> requestedDevices(final List<String> names) {
        final Set<String> requested = new LinkedHashSet<>();
        for (String device : names) {
            final String name = device.trim();
            if (!KNOWN_DEVICES.contains(name)) {
                throw UserError.usage("--device", "unknown device '" + name + "' (known: "
                        + String.join(", ", KNOWN_DEVICES) + ")");
            }
            if (!requested.add(name)) {
                throw UserError.usage("--device", name + " given twice: a machine has one " + name);
            }
        }
        return requested;
    }

    /**
     * @return the VT-d unit {@code --device iommu} asks for ({@link VtdConfig#standard()}: 48-bit MGAW, 4 fault
     *     recording registers, interrupt remapping; VT-d 3.x section 11.4.2), or null when it is not named
     */
    static VtdConfig iommu(final List<String> names) {
        return requestedDevices(names).contains(IOMMU_DEVICE) ? VtdConfig.standard() : null;
    }

    private static void print(final RunOutcome outcome, final PrintStream out) {
        out.println("-- " + outcome.message());
        out.println("result: " + (outcome.result() == null ? "(none)" : outcome.result()));
        final long total = outcome.totalExits();
        out.printf("VM exits: %d in %.3f s%n", total, outcome.elapsedNs() / 1e9);
        for (Map.Entry<Integer, Long> entry : outcome.exitsByReason().entrySet()) {
            final String name = entry.getKey() < 0 ? "other reasons" : ExitReason.name(entry.getKey());
            out.printf(Locale.ROOT, "  %6d  %-28s %10d  %5.1f%%%n", entry.getKey(), name,
                    entry.getValue(), total == 0 ? 0.0 : 100.0 * entry.getValue() / total);
        }
    }

    /** @return bytes for "64M", "1G", "65536" (K, M, G binary units) */
    static long parseSize(final String text) {
        final String trimmed = text.trim().toUpperCase(Locale.ROOT);
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty memory size");
        }
        final char unit = trimmed.charAt(trimmed.length() - 1);
        final int shift = switch (unit) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        final String digits = shift == 0 ? trimmed : trimmed.substring(0, trimmed.length() - 1);
        final long value;
        try {
            value = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a memory size: " + text);
        }
        if (value <= 0 || value > (64L << 30) >> shift) {
            throw new IllegalArgumentException("memory size out of range (1 byte .. 64G): " + text);
        }
        final long bytes = value << shift;
        if (bytes < (2L << 20) || (bytes & 0xFFF) != 0) {
            throw new IllegalArgumentException("memory size must be at least 2M and a multiple of 4K: " + text);
        }
        return bytes;
    }
}

package io.vioplane.cli;

import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.UserError;
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
import io.vioplane.vmx.machine.RunOutcome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vioplane run GUEST.elf}: runs one of the project's guest images on /dev/kvm, streams its console, and at
 * the end prints its result line and its VM exits by VT-x basic reason (Intel SDM Vol. 3, Appendix C).
 * {@code --device iommu} gives the machine a VT-d unit (VT-d 3.x; registers at 0xFED90000) and the ACPI tables that
 * describe it (RSDP at 0xF0000, XSDT, DMAR: VT-d 3.x chapter 8).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a vioplane guest image (ELF64) on /dev/kvm; print its result and exits by VT-x reason.")
final class RunCommand implements Callable<Integer> {
    /** {@code --device iommu}: the machine gets a VT-d unit ({@code Machine#attachIommu}). */
    static final String IOMMU_DEVICE = "iommu";

    @Parameters(index = "0", paramLabel = "GUEST.elf", description = "The guest image.")
    private Path image;

    @Option(names = "--memory", paramLabel = "SIZE",
            description = "Guest RAM, e.g. 64M, 1G (default: ${DEFAULT-VALUE}).")
    private String memory = "64M";

    @Option(names = "--device", paramLabel = "NAME", split = ",",
            description = "Devices to attach besides the built-in debug device: iommu (a VT-d unit, registers at "
                    + "0xFED90000, described by ACPI DMAR/XSDT/RSDP tables at 0xF0000).")
    private List<String> devices = List.of();

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
        final VtdConfig iommu = iommu(devices);
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
            final GuestRun run = new GuestRun(memoryBytes, Counters.in(countersFile), out::println,
                    ErrorLog.in(countersFile, System.err), Duration.ofSeconds(watchdogSeconds), iommu);
            final RunOutcome outcome = run.run(elf, image, new KvmBackend());
            print(outcome, out);
            return outcome.succeeded() ? 0 : ExitCodes.FAILURE;
        } catch (ImageException e) {
            throw UserError.usage(null, e.getMessage());
        }
    }

    /**
     * @return the VT-d unit {@code --device iommu} asks for ({@link VtdConfig#standard()}: 48-bit MGAW, 4 fault
     *     recording registers, interrupt remapping; VT-d 3.x section 11.4.2), or null when it is not named
     * @throws UserError naming the devices that do not exist, or a device named twice
     */
    static VtdConfig iommu(final List<String> names) {
        final List<String> unknown = names.stream().filter(name -> !name.equals(IOMMU_DEVICE)).toList();
        if (!unknown.isEmpty()) {
            throw UserError.usage("--device", "unknown device(s) " + unknown + ": the attachable devices are ["
                    + IOMMU_DEVICE + "]");
        }
        if (names.size() > 1) {
            throw UserError.usage("--device", "a machine has at most one " + IOMMU_DEVICE);
        }
        return names.isEmpty() ? null : VtdConfig.standard();
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

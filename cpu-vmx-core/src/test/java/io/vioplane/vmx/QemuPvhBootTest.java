package io.vioplane.vmx;

import io.vioplane.platform.testing.Requirements;
import io.vioplane.vmx.testkit.GuestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * QEMU (TCG, q35) boots the very images vioplane runs, through their PVH note (XEN_ELFNOTE_PHYS32_ENTRY): the
 * 32-bit entry switches to long mode itself, and the runtime talks to QEMU's isa-debugcon (port 0xe9) and
 * isa-debug-exit (port 0xf4). QEMU is the reference for guest-visible behaviour.
 */
class QemuPvhBootTest {
    private static final long TIMEOUT_SECONDS = 60;

    @TempDir
    Path directory;

    private record Boot(int exitCode, String console) {
    }

    private Boot boot(final Path image, final String... extraArguments) throws IOException, InterruptedException {
        Requirements.requireCommand("qemu-system-x86_64", "QEMU (qemu-system-x86)");
        final Path console = directory.resolve(image.getFileName() + ".console");
        final List<String> command = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg", "-M", "q35",
                "-m", "64", "-display", "none", "-no-reboot", "-nodefaults", "-kernel", image.toString(),
                "-debugcon", "file:" + console, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        command.addAll(List.of(extraArguments));
        final Process qemu = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(directory.resolve("qemu.log").toFile()).start();
        try {
            if (!qemu.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("QEMU did not finish " + image + " within " + TIMEOUT_SECONDS + " s");
            }
        } finally {
            qemu.destroyForcibly();
        }
        return new Boot(qemu.exitValue(), Files.exists(console) ? Files.readString(console) : "");
    }

    @Test
    void qemuBootsHelloToTheSameResultLine() throws Exception {
        final Boot boot = boot(GuestImages.require("hello"));
        assertTrue(boot.console().contains("hello from a vioplane guest"), boot.console());
        assertTrue(boot.console().contains("RESULT: fib(90)=2880067194370816120 primes<10000=1229\n"), boot.console());
        assertEquals(1, boot.exitCode(), "isa-debug-exit: (status 0 << 1) | 1");
    }

    @Test
    void qemuEnumeratesQ35ThroughEcamWithTheSameImage() throws Exception {
        final Boot boot = boot(GuestImages.require("pci_scan"));
        assertTrue(boot.console().contains("pci 00:0.0 ids 0x0000000029c08086 class 0x0000000000060000"),
                boot.console());
        assertTrue(boot.console().contains("pci 00:31.2 ids 0x0000000029228086 class 0x0000000000010601 caps 5 18"),
                "the AHCI controller's capability list: MSI (5), SATA (0x12)\n" + boot.console());
        assertTrue(boot.console().contains("RESULT: pci functions=4 first=" + 0x29c08086L + "\n"), boot.console());
        assertEquals(1, boot.exitCode());
    }

    /**
     * The reference for vioplane's {@code --device iommu}: QEMU's firmware tables (a revision-0 RSDP from SeaBIOS in
     * the BIOS area, the RSDT, QEMU's DMAR) lead the same probe to q35's unit at 0xFED90000. QEMU 7.2 lists bus 0's
     * devices and the I/O APIC as device scopes instead of setting INCLUDE_PCI_ALL, and has one fault recording
     * register where vioplane's unit has four; {@code aw-bits=48} matches vioplane's MGAW.
     */
    @Test
    void qemuDescribesItsVtdUnitThroughTheDmarTable() throws Exception {
        final Boot boot = boot(GuestImages.require("iommu_probe"), "-machine", "kernel-irqchip=split",
                "-device", "intel-iommu,intremap=on,aw-bits=48");
        assertTrue(boot.console().contains("RESULT: iommu dmar haw=48 intr_remap=1 drhd=0xfed90000 segment=0"
                + " include_pci_all=0 ver=0x10 mgaw=48 sagaw=0x6 nfr=1 ecap_ir=1\n"), boot.console());
        assertTrue(boot.console().contains("rsdt at "), "QEMU's RSDP is revision 0\n" + boot.console());
        assertEquals(1, boot.exitCode(), "isa-debug-exit: (status 0 << 1) | 1");
    }

    @Test
    void qemuWithoutAnIommuHasNoDmarTable() throws Exception {
        final Boot boot = boot(GuestImages.require("iommu_probe"));
        assertTrue(boot.console().contains("RESULT: iommu none: no DMAR table in the root table\n"), boot.console());
        assertEquals(3, boot.exitCode(), "isa-debug-exit: (status 1 << 1) | 1");
    }

    @Test
    void qemuDeliversExceptionsToTheImagesOwnHandlers() throws Exception {
        final Boot boot = boot(GuestImages.require("interrupts"));
        assertTrue(boot.console().contains("RESULT: int3=3 ud=1\n"), boot.console());
        assertEquals(1, boot.exitCode());
    }

    @Test
    void qemuStopsAtTheTripleFaultOfTheSameImage() throws Exception {
        final Boot boot = boot(GuestImages.require("triple_fault"));
        assertTrue(boot.console().contains("about to execute ud2"), boot.console());
        assertEquals(0, boot.exitCode(), "-no-reboot: a triple fault ends QEMU normally, not through debug-exit");
    }
}

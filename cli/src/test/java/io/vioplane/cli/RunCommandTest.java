package io.vioplane.cli;

import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCommandTest {
    private record Result(int status, String out, String err) {
    }

    private static Result run(final String... args) {
        final PrintStream originalOut = System.out;
        final PrintStream originalErr = System.err;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            final String[] full = new String[args.length + 1];
            full[0] = "run";
            System.arraycopy(args, 0, full, 1, args.length);
            final int status = Vioplane.commandLine().execute(full);
            return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    @Test
    void badImageGetsOneLineNamingTheFile(@TempDir final Path directory) throws Exception {
        final Path image = directory.resolve("guest.elf");
        Files.writeString(image, "#!/bin/sh\n");
        final Result result = run(image.toString());
        assertEquals(2, result.status());
        assertEquals("vioplane run: " + image + ": not an ELF file (no \\x7fELF magic)", result.err().strip());
    }

    @Test
    void missingImageGetsOneLineNamingTheFile(@TempDir final Path directory) {
        final Path image = directory.resolve("absent.elf");
        final Result result = run(image.toString());
        assertEquals(2, result.status());
        assertEquals("vioplane run: " + image + ": no such file", result.err().strip());
    }

    @Test
    void unknownDeviceIsRefusedNamingTheOnesThatExist(@TempDir final Path directory) {
        final Result result = run("--device", "iommu,floppy", directory.resolve("absent.elf").toString());
        assertEquals(2, result.status());
        assertTrue(result.err().contains("unknown device 'floppy' (known: e1000, iommu)"), result.err());
    }

    @Test
    void iommuDeviceIsAcceptedOnce(@TempDir final Path directory) {
        final Path image = directory.resolve("absent.elf");
        final Result accepted = run("--device", "iommu", image.toString());
        assertEquals("vioplane run: " + image + ": no such file", accepted.err().strip(),
                "the device passed; the image is what is missing");
        final Result twice = run("--device", "iommu,iommu", image.toString());
        assertEquals(2, twice.status());
        assertTrue(twice.err().contains("iommu given twice: a machine has one iommu"), twice.err());
        assertEquals(48, RunCommand.iommu(List.of("iommu")).mgawBits());
        assertNull(RunCommand.iommu(List.of()));
    }

    @Test
    void parsesMemorySizes() {
        assertEquals(64L << 20, RunCommand.parseSize("64M"));
        assertEquals(1L << 30, RunCommand.parseSize("1g"));
        assertEquals(4L << 20, RunCommand.parseSize("4194304"));
        assertThrows(IllegalArgumentException.class, () -> RunCommand.parseSize("1M"));
        assertThrows(IllegalArgumentException.class, () -> RunCommand.parseSize("lots"));
        assertThrows(IllegalArgumentException.class, () -> RunCommand.parseSize("100G"));
    }

    @Test
    void runsHelloAndPrintsExitsByVmxReason() {
        Requirements.requireKvm();
        final Path image = Path.of(System.getProperty("vioplane.root", ".."), "cpu-vmx-core/target/guests/hello.elf");
        Requirements.require(Files.isRegularFile(image), "guest image " + image);
        final Result result = run(image.toString());
        assertEquals(0, result.status(), result.out() + result.err());
        assertTrue(result.out().contains("hello from a vioplane guest"), result.out());
        assertTrue(result.out().contains("result: fib(90)=2880067194370816120 primes<10000=1229"), result.out());
        assertTrue(result.out().matches("(?s).*\\n\\s+48\\s+ept-violation\\s+\\d+\\s+\\d+\\.\\d%.*"), result.out());
    }

    @Test
    void runsHelloWithAnIommuAttached() {
        Requirements.requireKvm();
        final Path image = Path.of(System.getProperty("vioplane.root", ".."), "cpu-vmx-core/target/guests/hello.elf");
        Requirements.require(Files.isRegularFile(image), "guest image " + image);
        final Result result = run("--device", "iommu", image.toString());
        assertEquals(0, result.status(), result.out() + result.err());
        assertTrue(result.out().contains("result: fib(90)=2880067194370816120 primes<10000=1229"), result.out());
    }
}

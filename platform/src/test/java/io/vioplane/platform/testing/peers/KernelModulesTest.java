package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kernel module files as distributions ship them: plain, or compressed with gzip, xz or zstd. */
class KernelModulesTest {
    @TempDir
    Path directory;

    @Test
    void compressedModulesAreUnpackedForInsmod() throws Exception {
        Requirements.requireCommand("xz", "xz-utils");
        Requirements.requireCommand("zstd", "zstd");
        final byte[] module = new byte[100_000];
        new Random(42).nextBytes(module);
        final Path plain = Files.write(directory.resolve("sample.ko"), module);
        final Path gzipped = directory.resolve("sample.ko.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gzipped))) {
            out.write(module);
        }
        Commands.run("xz", "-k", plain.toString());
        Commands.run("zstd", "-q", "-k", plain.toString());
        for (final String file : new String[] {"sample.ko", "sample.ko.gz", "sample.ko.xz", "sample.ko.zst"}) {
            final Path source = directory.resolve(file);
            assertArrayEquals(module, new KernelModules.ModuleFile("sample", source, "").readUncompressed(), file);
        }
    }

    @Test
    void aModuleBuiltIntoTheKernelNeedsNoFile() throws Exception {
        LinuxGuestImage.requireInputs();
        final String version = LinuxGuestImage.findKernelVersion().orElseThrow();
        final String firstBuiltIn = Files.readAllLines(Path.of("/lib/modules", version, "modules.builtin")).get(0);
        final String name = firstBuiltIn.substring(firstBuiltIn.lastIndexOf('/') + 1).replace(".ko", "");
        assertEquals(List.of(), KernelModules.inLoadOrder(version, List.of(name)), name + " is built in");
    }

    @Test
    void aModuleTheKernelDoesNotHaveIsReportedByName() {
        LinuxGuestImage.requireInputs();
        final String version = LinuxGuestImage.findKernelVersion().orElseThrow();
        final IllegalStateException failure = assertThrows(IllegalStateException.class,
                () -> KernelModules.inLoadOrder(version, List.of("vioplane_no_such_module")));
        assertTrue(failure.getMessage().contains("vioplane_no_such_module"), failure.getMessage());
    }
}

package io.vioplane.cli;

import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code vioplane bench --peers exits} as a process on /dev/kvm: the exit_loop guest runs all three phases (MMIO
 * handler, ioeventfd, irqfd interrupt round trip) on vioplane's Machine and on the C minivmm, and both VMMs take
 * one KVM exit per MMIO write by KVM's own statistics. Says nothing about speed.
 */
class BenchExitLoopTest {
    private static double value(final List<String> rows, final int row, final String column) {
        final String prefix = "exits," + row + "," + column + ",";
        final String line = rows.stream().filter(r -> r.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no cell " + prefix + " in " + rows));
        return Double.parseDouble(line.substring(prefix.length()).split(",")[0]);
    }

    @Test
    void bothVmmsRunEveryPhaseAndTakeOneKvmExitPerMmioWrite(@TempDir final Path directory) throws Exception {
        Requirements.requireKvm();
        final Path csv = directory.resolve("exits.csv");
        final Path checkout = Path.of("").toAbsolutePath().getParent();
        final VioplaneProcess.Result bench = VioplaneProcess.run(List.of(),
                Map.of("JAVA_TOOL_OPTIONS", "-Dvioplane.root=" + checkout), "bench", "--quick",
                "--peers-only", "--peers", "exits", "--csv", csv.toString());
        assertEquals(0, bench.exitCode(), bench.stdout() + bench.stderr());
        assertTrue(bench.stdout().contains("VM exit round trips: vioplane's Machine vs minivmm (C)"), bench.stdout());
        final List<String> rows = Files.readAllLines(csv);
        for (int row : new int[] {0, 1}) {
            final double exitsPerWrite = value(rows, row, "KVM exits/op");
            assertTrue(exitsPerWrite >= 1.0 && exitsPerWrite < 1.2, "row " + row + ": " + exitsPerWrite);
        }
        for (int row = 0; row < 6; row++) {
            assertTrue(value(rows, row, "median") > 0, "row " + row + " measured: " + rows);
        }
        assertTrue(value(rows, 4, "java/c") > 0, rows.toString());
    }
}

package io.vioplane.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code vioplane bench} as a process on its shortest real work, the quick echo-latency group (about 40,000 round
 * trips over vhost-user in-process, a few seconds): --csv and --json written with --peers-only, progress one line per
 * step on a redirected standard error, and no work directory left behind, also when interrupted with SIGINT. Says
 * nothing about speed.
 */
class BenchOutputTest {
    private static Map<String, String> tmpdir(final Path directory) {
        return Map.of("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + directory);
    }

    private static List<Path> leftovers(final Path directory) throws Exception {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(file -> file.getFileName().toString().startsWith("vioplane-")).toList();
        }
    }

    @Test
    void peersOnlyWritesEveryTableAsCsvAndJsonAndLeavesNothingBehind(@TempDir final Path directory) throws Exception {
        final Path tmp = Files.createDirectory(directory.resolve("tmp"));
        final Path csv = directory.resolve("bench.csv");
        final Path json = directory.resolve("bench.json");
        final VioplaneProcess.Result bench = VioplaneProcess.run(List.of(), tmpdir(tmp), "bench", "--quick",
                "--peers-only", "--peers", "latency", "--csv", csv.toString(), "--json", json.toString());
        assertEquals(0, bench.exitCode(), bench.stderr());
        assertTrue(bench.stdout().contains("echo round-trip latency (64 B)\n  percentiles of one run's round trips"
                + " (HdrHistogram); lower is better"), bench.stdout());
        assertTrue(bench.stdout().lines().anyMatch(line -> line.startsWith("busy-poll") && line.contains("20,000")
                && line.endsWith(" us")), bench.stdout());
        assertTrue(bench.stderr().contains("[latency 1/2] parked (kick eventfd): about "), bench.stderr());
        assertTrue(bench.stderr().contains("[latency 2/2] busy-poll: about "), bench.stderr());
        final List<String> rows = Files.readAllLines(csv);
        assertEquals("table,row,column,value,low,high,unit,text", rows.getFirst());
        assertTrue(rows.contains("latency,1,samples,20000,,,,\"20,000\""), rows.toString());
        assertTrue(rows.stream().anyMatch(row -> row.startsWith("latency,0,p99,") && row.contains(",us,")),
                rows.toString());
        final String document = Files.readString(json);
        assertTrue(document.startsWith("{\"tables\":[{\"id\":\"latency\""), document);
        assertEquals(List.of(), leftovers(tmp), "no work directory or daemon log left in the temporary directory");
    }

    @Test
    void interruptedBenchRemovesItsWorkDirectory(@TempDir final Path directory) throws Exception {
        final Path tmp = Files.createDirectory(directory.resolve("tmp"));
        try (VioplaneProcess bench = VioplaneProcess.launch(tmpdir(tmp), "bench", "--peers-only", "--peers",
                "latency")) {
            final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (!bench.stderr().contains("[latency 1/2]")) {
                assertTrue(System.nanoTime() < deadline, "the latency run started: " + bench.stderr());
                Thread.sleep(50);
            }
            assertFalse(leftovers(tmp).isEmpty(), "the run has its work directory");
            bench.interrupt();
        }
        assertEquals(List.of(), leftovers(tmp), "Ctrl-C (SIGINT) left nothing behind");
    }
}

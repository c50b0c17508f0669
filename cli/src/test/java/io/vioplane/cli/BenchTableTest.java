package io.vioplane.cli;

import io.vioplane.perf.BenchSuite;
import io.vioplane.perf.BenchTable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;

import java.util.Collection;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The bench command's machinery end to end on one real benchmark, with minimal iterations: the forked JVM
 * gets the project's flags (FFM downcalls work in it) and the table carries a median, a range and the
 * allocation column. Says nothing about speed.
 */
@Tag("bench")
class BenchTableTest {
    @Test
    void runsARealBenchmarkInAForkAndTabulatesIt() throws Exception {
        final BenchSuite.Settings settings = new BenchSuite.Settings(1, 1, 1, 2, 1,
                List.of(".*SyscallBenchmark\\.getpidDowncall"), false);
        final Collection<RunResult> results = BenchSuite.run(settings);
        final List<BenchTable.Row> rows = BenchTable.rows(results);
        assertEquals(1, rows.size());
        final BenchTable.Row row = rows.getFirst();
        assertEquals("platform.SyscallBenchmark.getpidDowncall", row.benchmark());
        assertTrue(row.median() > 0 && row.min() <= row.median() && row.median() <= row.max(), row.toString());
        assertEquals("ns/op", row.unit());
        assertFalse(Double.isNaN(row.allocatedBytesPerOp()), "the GC profiler ran");
        final String table = BenchTable.format(rows);
        assertTrue(table.lines().anyMatch(line -> line.startsWith("platform.SyscallBenchmark.getpidDowncall")
                && line.contains(" ns/op") && line.contains("lower") && line.endsWith(" B/op")), table);
    }
}

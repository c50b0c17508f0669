package io.vioplane.perf;

import io.vioplane.perf.peers.RunSeries;
import io.vioplane.perf.peers.VhostUserComparison;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The report's tables: units beside values, separators, what ratios mean, warnings, and CSV/JSON of every table. */
class ResultTableTest {
    @Test
    void numbersUseThousandsSeparatorsAtEverySize() {
        assertEquals("1,234,567", ResultTable.format(1_234_567.4));
        assertEquals("12,346", ResultTable.format(12_345.6));
        assertEquals("123.5", ResultTable.format(123.45));
        assertEquals("12.35", ResultTable.format(12.345));
        assertEquals("0.370", ResultTable.format(0.37));
        assertEquals("-", ResultTable.format(Double.NaN));
    }

    @Test
    void everyValueCarriesItsUnitSoMixedUnitsNeverShareAColumnBare() {
        final String text = BenchTable.format(List.of(
                new BenchTable.Row("vring.A", "", 12.345, 12.0, 12.9, "ns/op", 0, 3),
                new BenchTable.Row("vring.B", "size=64", 3456.7, 3400, 3500, "ops/us", Double.NaN, 3)));
        assertTrue(text.contains("12.35 ns/op"), text);
        assertTrue(text.contains("12.00 .. 12.90 ns/op"), text);
        assertTrue(text.contains("3,457 ops/us"), text);
        assertTrue(text.contains("3,400 .. 3,500 ops/us"), text);
        assertTrue(text.contains("ns/op: lower is better, ops/us: higher is better"), text);
        assertTrue(text.lines().anyMatch(line -> line.startsWith("vring.A") && line.contains("lower")), text);
        assertTrue(text.lines().anyMatch(line -> line.startsWith("vring.B") && line.contains("higher")), text);
        assertFalse(text.contains("!"), "iterations that agree raise no warning: " + text);
    }

    @Test
    void warnsWhenAResultRestsOnOneRunOrRunsDisagree() {
        final ResultTable table = VhostUserComparison.table(List.of(
                new VhostUserComparison.Result(VhostUserComparison.Scenario.FRONT_END_TX,
                        new RunSeries("vioplane", new double[] {1.25e6}, Map.of("capture ring full", 436_563L))),
                new VhostUserComparison.Result(VhostUserComparison.Scenario.FRONT_END_TX,
                        new RunSeries("dpdk net_vhost", new double[] {1.0e6, 0.37e6, 1.1e6}))));
        final String text = table.text();
        assertTrue(text.contains("ratio = vioplane median / DPDK net_vhost median: above 1.00 vioplane is faster"),
                text);
        assertTrue(text.contains("1.250 Mpps"), text);
        assertTrue(text.contains("capture ring full 436,563"), text);
        assertTrue(text.contains("! a / vioplane: rests on one run"), text);
        assertTrue(text.contains("! a / dpdk net_vhost: its 3 runs disagree (range 73% of the median, over 25%)"),
                text);
        assertEquals(2, table.warnings().size());
    }

    @Test
    void manyOneRunResultsShareOneWarningLine() {
        final ResultTable table = new ResultTable("t", "t").column("x", true).row(ResultTable.Cell.number(1, ""))
                .checkAgreement("a", new double[] {1}).checkAgreement("b", new double[] {2})
                .checkAgreement("c", new double[] {1, 2});
        final List<String> warnings = table.text().lines().filter(line -> line.startsWith("  !")).toList();
        assertEquals(List.of("  ! 2 results rest on one run each: a, b (use --full before quoting them)",
                "  ! c: its 2 runs disagree (range 67% of the median, over 25%)"), warnings);
    }

    @Test
    void csvAndJsonCarryEveryTableWithValuesRangesUnitsAndWarnings() {
        final ResultTable first = new ResultTable("one", "first").column("name", false).column("rate", true)
                .column("range", true).row(ResultTable.Cell.text("a, \"quoted\""), ResultTable.Cell.number(1234.5,
                        "Mpps"), ResultTable.Cell.range(1, 2, "Mpps")).warn("a: rests on one run");
        final ResultTable second = new ResultTable("two", "second").column("p50", true)
                .row(ResultTable.Cell.number(3.5, "us"));
        final String csv = ResultTable.csv(List.of(first, second));
        assertEquals(List.of("table,row,column,value,low,high,unit,text",
                "one,0,name,,,,,\"a, \"\"quoted\"\"\"",
                "one,0,rate,1234.5,,,Mpps,\"1,235 Mpps\"",
                "one,0,range,,1,2,Mpps,1.000 .. 2.000 Mpps",
                "one,,warning,,,,,a: rests on one run",
                "two,0,p50,3.5,,,us,3.500 us"), csv.lines().toList());
        final String json = ResultTable.json(List.of(first, second));
        assertTrue(json.startsWith("{\"tables\":[{\"id\":\"one\""), json);
        assertTrue(json.contains("\"rate\":{\"value\":1234.5,\"unit\":\"Mpps\",\"text\":\"1,235 Mpps\"}"), json);
        assertTrue(json.contains("\"range\":{\"low\":1,\"high\":2,\"unit\":\"Mpps\""), json);
        assertTrue(json.contains("\"warnings\":[\"a: rests on one run\"]"), json);
        assertTrue(json.contains("{\"id\":\"two\""), json);
    }

    @Test
    void progressPrintsOneLinePerStepWhenRedirected() {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final Progress progress = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        progress.begin("JMH", 3, 10);
        progress.step("first");
        progress.step("second");
        progress.end();
        final List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), lines.toString());
        assertEquals("[JMH 1/3] first: about 30s left", lines.get(0));
        assertTrue(lines.get(1).startsWith("[JMH 2/3] second: about "), lines.get(1));
        assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("\033"), "no terminal codes when redirected");
    }

    @Test
    void progressRedrawsOneLineOnATerminalAndClearsIt() {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final Progress progress = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
        progress.begin("TAP", 8, 75);
        progress.step("to TAP, vioplane bridge, run 1 of 1");
        progress.end();
        assertEquals("\r\033[K[TAP 1/8] to TAP, vioplane bridge, run 1 of 1: about 10m00s left\r\033[K",
                bytes.toString(StandardCharsets.UTF_8));
        assertEquals("1h02m", Progress.duration(3725));
    }
}

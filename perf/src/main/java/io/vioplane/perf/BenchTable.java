package io.vioplane.perf;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.util.Statistics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Turns JMH results into the table {@code vioplane bench} prints: per benchmark the median of the
 * measurement iterations, their range (min..max, because these machines are noisy), the unit, and the
 * bytes allocated per operation from the GC profiler.
 *
 * <p>A group benchmark (several {@code @Group} methods running at once on their own threads) gets one row per
 * method, named {@code benchmark:method}, instead of JMH's primary result, which sums the methods'
 * throughputs and so says nothing about any one of them. Its allocation column is the group's: bytes
 * allocated by all its threads per operation of any of its methods.
 */
public final class BenchTable {
    /** One printed row. */
    public record Row(String benchmark, String params, double median, double min, double max, String unit,
                      double allocatedBytesPerOp, long samples) {
        /** @return "lower" for times per operation, "higher" for operations per time */
        public String better() {
            return unit.startsWith("ops/") ? "higher" : "lower";
        }
    }

    private BenchTable() {
    }

    /** @return the rows of {@code results}, sorted by benchmark name */
    public static List<Row> rows(final Collection<RunResult> results) {
        final List<Row> rows = new ArrayList<>();
        for (RunResult result : results) {
            final Result<?> primary = result.getPrimaryResult();
            final Map<String, Result> secondary = result.getSecondaryResults();
            final Result<?> alloc = secondary.get("gc.alloc.rate.norm");
            final String benchmark = result.getParams().getBenchmark();
            final StringBuilder params = new StringBuilder();
            for (String key : result.getParams().getParamsKeys()) {
                if (!params.isEmpty()) {
                    params.append(' ');
                }
                params.append(key).append('=').append(result.getParams().getParam(key));
            }
            final double allocatedBytesPerOp = alloc == null ? Double.NaN : alloc.getScore();
            final Collection<String> groupMethods = result.getParams().getThreadGroupLabels();
            if (groupMethods.size() > 1) {
                for (String method : groupMethods) {
                    final Result<?> methodResult = secondary.get(method);
                    if (methodResult != null) {
                        rows.add(row(shortName(benchmark) + ":" + method, params.toString(), methodResult,
                                allocatedBytesPerOp));
                    }
                }
            } else {
                rows.add(row(shortName(benchmark), params.toString(), primary, allocatedBytesPerOp));
            }
        }
        rows.sort(Comparator.comparing(Row::benchmark).thenComparing(Row::params));
        return rows;
    }

    private static Row row(final String benchmark, final String params, final Result<?> result,
                           final double allocatedBytesPerOp) {
        final Statistics statistics = result.getStatistics();
        return new Row(benchmark, params, statistics.getPercentile(50), statistics.getMin(), statistics.getMax(),
                result.getScoreUnit(), allocatedBytesPerOp, statistics.getN());
    }

    /** @return {@code benchmark} without the {@code io.vioplane.perf.} prefix */
    static String shortName(final String benchmark) {
        return benchmark.startsWith("io.vioplane.perf.") ? benchmark.substring("io.vioplane.perf.".length()) : benchmark;
    }

    /** @return the rows as an aligned text table, with what the figures mean and warnings */
    public static String format(final List<Row> rows) {
        return table(rows).text();
    }

    /**
     * @return the rows as a report table: each value with its unit, which way is better, and a warning for a row
     *     resting on one measurement iteration or whose iterations disagree
     */
    public static ResultTable table(final List<Row> rows) {
        final ResultTable table = new ResultTable("jmh", "JMH benchmarks (one fork each)")
                .note("median and range over the measurement iterations; ns/op: lower is better,"
                        + " ops/us: higher is better (column 'better')")
                .note("alloc: bytes allocated per operation (GC profiler); 0 on a data path means no garbage")
                .column("benchmark", false).column("params", false).column("median", true)
                .column("range (min .. max)", true).column("better", false).column("alloc", true);
        for (Row row : rows) {
            table.row(ResultTable.Cell.text(row.benchmark()), ResultTable.Cell.text(row.params()),
                    ResultTable.Cell.number(row.median(), row.unit()),
                    ResultTable.Cell.range(row.min(), row.max(), row.unit()), ResultTable.Cell.text(row.better()),
                    ResultTable.Cell.number(row.allocatedBytesPerOp(), "B/op"));
            table.checkAgreement(row.benchmark() + (row.params().isEmpty() ? "" : " " + row.params()), "iterations",
                    row.samples(), row.min(), row.median(), row.max());
        }
        return table;
    }
}

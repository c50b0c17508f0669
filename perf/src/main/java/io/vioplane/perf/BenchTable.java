package io.vioplane.perf;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.util.Statistics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
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
                      double allocatedBytesPerOp) {
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
                result.getScoreUnit(), allocatedBytesPerOp);
    }

    /** @return {@code benchmark} without the {@code io.vioplane.perf.} prefix */
    static String shortName(final String benchmark) {
        return benchmark.startsWith("io.vioplane.perf.") ? benchmark.substring("io.vioplane.perf.".length()) : benchmark;
    }

    /** @return the rows as an aligned text table */
    public static String format(final List<Row> rows) {
        final List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"benchmark", "params", "median", "range (min..max)", "unit", "alloc B/op"});
        for (Row row : rows) {
            cells.add(new String[] {row.benchmark(), row.params(), number(row.median()),
                    number(row.min()) + " .. " + number(row.max()), row.unit(),
                    Double.isNaN(row.allocatedBytesPerOp()) ? "-" : String.format(Locale.ROOT, "%.1f", row.allocatedBytesPerOp())});
        }
        final int[] widths = new int[cells.getFirst().length];
        for (String[] line : cells) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        final StringBuilder out = new StringBuilder();
        for (int n = 0; n < cells.size(); n++) {
            final String[] line = cells.get(n);
            for (int i = 0; i < line.length; i++) {
                final boolean numeric = i == 2 || i == 3 || i == 5;
                out.append(numeric ? pad(line[i], widths[i], true) : pad(line[i], widths[i], false));
                out.append(i + 1 < line.length ? "  " : "\n");
            }
            if (n == 0) {
                for (int i = 0; i < widths.length; i++) {
                    out.append("-".repeat(widths[i])).append(i + 1 < widths.length ? "  " : "\n");
                }
            }
        }
        return out.toString();
    }

    private static String number(final double value) {
        if (Double.isNaN(value)) {
            return "-";
        }
        if (Math.abs(value) >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        return String.format(Locale.ROOT, "%.3f", value);
    }

    private static String pad(final String text, final int width, final boolean right) {
        final String padding = " ".repeat(Math.max(0, width - text.length()));
        return right ? padding + text : text + padding;
    }
}

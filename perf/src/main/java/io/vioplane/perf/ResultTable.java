package io.vioplane.perf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One table of {@code vioplane bench}'s report, kept as data so the same table prints as aligned text, and goes
 * whole into {@code --csv} and {@code --json}: a title, notes that say what the figures mean and which way is
 * better, columns, rows of cells (each number with its unit), and warnings (a result resting on one run, runs that
 * disagree).
 */
public final class ResultTable {
    /** A column: its name and, for numbers, the unit every value in it has (null: the unit is in each cell). */
    public record Column(String name, boolean numeric) {
    }

    /**
     * A cell: what it shows, and for a number its value (or for a range its low and high ends) and unit; NaN where
     * it has none.
     */
    public record Cell(String text, double value, double low, double high, String unit) {
        /** @return a text cell */
        public static Cell text(final String text) {
            return new Cell(text, Double.NaN, Double.NaN, Double.NaN, null);
        }

        /** @return a number shown with its unit beside it, e.g. {@code "12.35 ns/op"} */
        public static Cell number(final double value, final String unit) {
            return new Cell(Double.isNaN(value) ? "-" : format(value) + (unit.isEmpty() ? "" : " " + unit), value,
                    Double.NaN, Double.NaN, unit);
        }

        /** @return a range shown as {@code "min .. max unit"} */
        public static Cell range(final double min, final double max, final String unit) {
            return new Cell(format(min) + " .. " + format(max) + (unit.isEmpty() ? "" : " " + unit), Double.NaN, min,
                    max, unit);
        }
    }

    private static final String ONE_SAMPLE = ": rests on one ";
    private static final String ONE_SAMPLE_ADVICE = " (use --full before quoting it)";

    /** Runs disagree when their range exceeds this fraction of their median. */
    public static final double DISAGREEMENT_THRESHOLD = 0.25;

    private final String id;
    private final String title;
    private final List<String> notes = new ArrayList<>();
    private final List<Column> columns = new ArrayList<>();
    private final List<List<Cell>> rows = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    /**
     * @param id    a short name for machine-readable output (e.g. {@code "jmh"}, {@code "vhost-user"})
     * @param title the first line of the printed table
     */
    public ResultTable(final String id, final String title) {
        this.id = id;
        this.title = title;
    }

    /** Adds a line under the title (what a ratio means, which way is better). @return this */
    public ResultTable note(final String note) {
        notes.add(note);
        return this;
    }

    /** Adds a column. @return this */
    public ResultTable column(final String name, final boolean numeric) {
        columns.add(new Column(name, numeric));
        return this;
    }

    /** Adds a row, one cell per column. @return this */
    public ResultTable row(final Cell... cells) {
        if (cells.length != columns.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + columns.size() + " columns");
        }
        rows.add(List.of(cells));
        return this;
    }

    /** Adds a warning printed under the table. @return this */
    public ResultTable warn(final String warning) {
        warnings.add(warning);
        return this;
    }

    /**
     * Warns when {@code samples} (one per run) rest on a single run or disagree by more than
     * {@link #DISAGREEMENT_THRESHOLD} of their median.
     *
     * @param what names the result, e.g. {@code "a: front-end txonly -> back-end / vioplane"}
     * @return this
     */
    public ResultTable checkAgreement(final String what, final double[] samples) {
        final double[] sorted = samples.clone();
        Arrays.sort(sorted);
        final double median = sorted.length == 0 ? Double.NaN : sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return checkAgreement(what, "runs", sorted.length, sorted.length == 0 ? Double.NaN : sorted[0], median,
                sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1]);
    }

    /**
     * Warns when a result rests on one sample or its samples' range exceeds {@link #DISAGREEMENT_THRESHOLD} of the
     * median.
     *
     * @param samplesName what a sample is ("runs", "iterations")
     * @return this
     */
    public ResultTable checkAgreement(final String what, final String samplesName, final long count, final double min,
                                      final double median, final double max) {
        if (count <= 1) {
            warn(what + ONE_SAMPLE + samplesName.replaceAll("s$", "") + ONE_SAMPLE_ADVICE);
            return this;
        }
        final double spread = (max - min) / Math.abs(median);
        if (median != 0 && spread > DISAGREEMENT_THRESHOLD) {
            warn(String.format(Locale.ROOT, "%s: its %d %s disagree (range %.0f%% of the median, over %.0f%%)", what,
                    count, samplesName, spread * 100, DISAGREEMENT_THRESHOLD * 100));
        }
        return this;
    }

    /** @return the short name */
    public String id() {
        return id;
    }

    /** @return the title */
    public String title() {
        return title;
    }

    /** @return the warnings */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** @return the rows */
    public List<List<Cell>> rows() {
        return List.copyOf(rows);
    }

    /** @return the table as aligned text: title, notes, header, rows, warnings */
    public String text() {
        final int[] widths = new int[columns.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = columns.get(i).name().length();
            for (List<Cell> row : rows) {
                widths[i] = Math.max(widths[i], row.get(i).text().length());
            }
        }
        final StringBuilder out = new StringBuilder(title).append('\n');
        notes.forEach(note -> out.append("  ").append(note).append('\n'));
        final StringBuilder header = new StringBuilder();
        final StringBuilder rule = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            header.append(pad(columns.get(i).name(), widths[i], columns.get(i).numeric())).append(i + 1 < widths.length ? "  " : "");
            rule.append("-".repeat(widths[i])).append(i + 1 < widths.length ? "  " : "");
        }
        out.append(header.toString().stripTrailing()).append('\n').append(rule).append('\n');
        for (List<Cell> row : rows) {
            final StringBuilder line = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                line.append(pad(row.get(i).text(), widths[i], columns.get(i).numeric()))
                        .append(i + 1 < widths.length ? "  " : "");
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        final List<String> oneSample = warnings.stream().filter(w -> w.contains(ONE_SAMPLE)).toList();
        if (oneSample.size() > 1) {
            out.append("  ! ").append(oneSample.size()).append(" results rest on one ")
                    .append(oneSample.getFirst().substring(oneSample.getFirst().indexOf(ONE_SAMPLE) + ONE_SAMPLE.length(),
                            oneSample.getFirst().indexOf(ONE_SAMPLE_ADVICE))).append(" each: ")
                    .append(String.join(", ", oneSample.stream()
                            .map(w -> w.substring(0, w.indexOf(ONE_SAMPLE))).toList()))
                    .append(ONE_SAMPLE_ADVICE.replace("it)", "them)")).append('\n');
        }
        warnings.stream().filter(w -> oneSample.size() <= 1 || !w.contains(ONE_SAMPLE))
                .forEach(warning -> out.append("  ! ").append(warning).append('\n'));
        return out.toString();
    }

    /**
     * @return every cell of every table as CSV (RFC 4180), one line per cell:
     *     {@code table,row,column,value,low,high,unit,text} (value for a number, low and high for a range, empty
     *     where they do not apply); warnings as lines whose column is {@code warning}
     */
    public static String csv(final List<ResultTable> tables) {
        final StringBuilder out = new StringBuilder("table,row,column,value,low,high,unit,text\n");
        for (ResultTable table : tables) {
            for (int r = 0; r < table.rows.size(); r++) {
                for (int c = 0; c < table.columns.size(); c++) {
                    final Cell cell = table.rows.get(r).get(c);
                    out.append(csvField(table.id)).append(',').append(r).append(',')
                            .append(csvField(table.columns.get(c).name())).append(',')
                            .append(plain(cell.value())).append(',').append(plain(cell.low())).append(',')
                            .append(plain(cell.high())).append(',')
                            .append(csvField(cell.unit() == null ? "" : cell.unit())).append(',')
                            .append(csvField(cell.text())).append('\n');
                }
            }
            for (String warning : table.warnings) {
                out.append(csvField(table.id)).append(",,warning,,,,,").append(csvField(warning)).append('\n');
            }
        }
        return out.toString();
    }

    /** @return every table as one JSON document: {@code {"tables":[{"id","title","notes","columns","rows","warnings"}]}} */
    public static String json(final List<ResultTable> tables) {
        final StringBuilder out = new StringBuilder("{\"tables\":[");
        for (int t = 0; t < tables.size(); t++) {
            final ResultTable table = tables.get(t);
            out.append(t == 0 ? "" : ",").append("{\"id\":").append(jsonString(table.id)).append(",\"title\":")
                    .append(jsonString(table.title)).append(",\"notes\":").append(jsonStrings(table.notes))
                    .append(",\"columns\":").append(jsonStrings(table.columns.stream().map(Column::name).toList()))
                    .append(",\"rows\":[");
            for (int r = 0; r < table.rows.size(); r++) {
                out.append(r == 0 ? "" : ",").append('{');
                for (int c = 0; c < table.columns.size(); c++) {
                    final Cell cell = table.rows.get(r).get(c);
                    out.append(c == 0 ? "" : ",").append(jsonString(table.columns.get(c).name())).append(':');
                    if (cell.unit() == null) {
                        out.append(jsonString(cell.text()));
                    } else if (!Double.isNaN(cell.low())) {
                        out.append("{\"low\":").append(jsonNumber(cell.low())).append(",\"high\":")
                                .append(jsonNumber(cell.high())).append(",\"unit\":").append(jsonString(cell.unit()))
                                .append(",\"text\":").append(jsonString(cell.text())).append('}');
                    } else {
                        out.append("{\"value\":").append(jsonNumber(cell.value())).append(",\"unit\":")
                                .append(jsonString(cell.unit())).append(",\"text\":").append(jsonString(cell.text()))
                                .append('}');
                    }
                }
                out.append('}');
            }
            out.append("],\"warnings\":").append(jsonStrings(table.warnings)).append('}');
        }
        return out.append("]}\n").toString();
    }

    /**
     * @return {@code value} with thousands separators and a precision that suits its size (4 significant digits
     *     below 1,000; whole numbers above)
     */
    public static String format(final double value) {
        if (Double.isNaN(value)) {
            return "-";
        }
        final double magnitude = Math.abs(value);
        final String pattern = magnitude >= 1000 ? "%,.0f" : magnitude >= 100 ? "%,.1f" : magnitude >= 10 ? "%,.2f"
                : "%,.3f";
        return String.format(Locale.ROOT, pattern, value);
    }

    /** @return {@code value} for CSV: empty when NaN, whole numbers without a fraction */
    private static String plain(final double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return "";
        }
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : Double.toString(value);
    }

    private static String jsonNumber(final double value) {
        final String text = plain(value);
        return text.isEmpty() ? "null" : text;
    }

    private static String pad(final String text, final int width, final boolean right) {
        final String padding = " ".repeat(Math.max(0, width - text.length()));
        return right ? padding + text : text + padding;
    }

    private static String csvField(final String text) {
        return text.contains(",") || text.contains("\"") || text.contains("\n")
                ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }

    private static String jsonStrings(final List<String> texts) {
        return "[" + String.join(",", texts.stream().map(ResultTable::jsonString).toList()) + "]";
    }

    private static String jsonString(final String text) {
        return JsonText.string(text);
    }
}

package io.vioplane.cli;

import io.vioplane.cli.conventions.CounterSnapshot;
import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.PrometheusExposition;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.perf.JsonText;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.CountersFileReader;
import io.vioplane.platform.runtime.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vioplane stat}: prints the live counters (and optionally the distinct errors) of running vioplane
 * processes, read from their counters files while they run (like Aeron's AeronStat). A table by default (zero rows
 * hidden unless {@code --all}; with {@code --watch}, a per-second rate beside each value, redrawn in place on a
 * terminal and as timestamped blocks when redirected), or JSON, or the Prometheus text format.
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "Print the live counters of running vioplane processes.")
final class StatCommand implements Callable<Integer> {
    /** Output formats. */
    enum Format { TABLE, JSON, PROMETHEUS }

    private static final String CLEAR_SCREEN = "\033[H\033[2J";

    /** The distinct errors of each process, read with its counters when --errors is given. */
    private final Map<Long, List<CountersFileReader.ErrorRecord>> errorRecords = new HashMap<>();

    @Option(names = "--pid", description = "Only this process.")
    private Long pid;

    @Option(names = "--dir", paramLabel = "DIR", description = "Run directory (default: ${DEFAULT-VALUE}).")
    private Path directory = RunDirectory.resolve();

    @Option(names = "--errors", description = "Also print each distinct error with its count (table format).")
    private boolean errors;

    @Option(names = "--filter", paramLabel = "TEXT", description = "Only counters whose label contains TEXT.")
    private String filter;

    @Option(names = "--all", description = "Also show counters that are zero (and, watching, did not move).")
    private boolean all;

    @Option(names = "--format", paramLabel = "table|json|prometheus", defaultValue = "table",
            description = "Output format (default: ${DEFAULT-VALUE}); prometheus is the Prometheus text exposition"
                    + " format.")
    private Format format;

    @Option(names = "--watch", paramLabel = "SECONDS",
            description = "Print again every SECONDS (at least 1) until interrupted, with rates per second.")
    private Integer watchSeconds;

    @Override
    public Integer call() throws InterruptedException {
        if (watchSeconds != null && watchSeconds <= 0) {
            throw UserError.usage("--watch", "the period must be at least 1 second, not " + watchSeconds);
        }
        final PrintStream out = System.out;
        final boolean terminal = System.console() != null && System.console().isTerminal();
        Map<Long, CounterSnapshot> previous = new HashMap<>();
        while (true) {
            final List<CounterSnapshot> snapshots = read(out);
            if (snapshots.isEmpty() && watchSeconds == null) {
                throw UserError.failure(pid == null ? directory.toString() : "--pid",
                        "no running vioplane process" + (pid == null ? "" : " with pid " + pid + " in " + directory));
            }
            final StringBuilder screen = new StringBuilder();
            if (watchSeconds != null && format == Format.TABLE) {
                screen.append(terminal ? CLEAR_SCREEN : "").append("--- ")
                        .append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(" (every ").append(watchSeconds)
                        .append(" s)\n");
            }
            if (snapshots.isEmpty()) {
                screen.append("no running vioplane process").append(pid == null ? "" : " with pid " + pid)
                        .append(" in ").append(directory).append('\n');
            } else {
                screen.append(switch (format) {
                    case TABLE -> table(snapshots, previous);
                    case JSON -> json(snapshots, previous) + "\n";
                    case PROMETHEUS -> PrometheusExposition.format(filtered(snapshots));
                });
            }
            out.print(screen);
            out.flush();
            if (watchSeconds == null) {
                return snapshots.isEmpty() ? ExitCodes.FAILURE : ExitCodes.OK;
            }
            final Map<Long, CounterSnapshot> latest = new HashMap<>();
            snapshots.forEach(snapshot -> latest.put(snapshot.pid(), snapshot));
            previous = latest;
            Thread.sleep(watchSeconds * 1000L);
        }
    }

    private List<CounterSnapshot> read(final PrintStream out) {
        final List<CounterSnapshot> snapshots = new ArrayList<>();
        for (Path file : CountersFileReader.liveFiles(directory)) {
            try (CountersFileReader reader = CountersFileReader.open(file)) {
                if (pid == null || reader.pid() == pid) {
                    snapshots.add(CounterSnapshot.of(reader));
                    if (errors) {
                        errorRecords.put(reader.pid(), reader.errors());
                    }
                }
            } catch (RuntimeException e) {
                out.println(file + ": unreadable (" + e.getMessage() + ")");
            }
        }
        return snapshots;
    }

    private List<CounterSnapshot> filtered(final List<CounterSnapshot> snapshots) {
        if (filter == null) {
            return snapshots;
        }
        return snapshots.stream().map(s -> new CounterSnapshot(s.pid(), s.description(), s.startEpochMs(), s.path(),
                s.takenNs(), s.counters().stream().filter(c -> c.label().contains(filter)).toList())).toList();
    }

    private String table(final List<CounterSnapshot> snapshots, final Map<Long, CounterSnapshot> previous) {
        final StringBuilder out = new StringBuilder();
        for (CounterSnapshot snapshot : filtered(snapshots)) {
            final Duration up = Duration.between(Instant.ofEpochMilli(snapshot.startEpochMs()), Instant.now());
            out.append(String.format(Locale.ROOT, "pid %d  %s  up %dh%02dm%02ds  %s%n", snapshot.pid(),
                    snapshot.description(), up.toHours(), up.toMinutesPart(), up.toSecondsPart(), snapshot.path()));
            final Map<Integer, Double> rates = snapshot.ratesSince(previous.get(snapshot.pid()));
            final boolean watching = watchSeconds != null;
            out.append(watching ? String.format(Locale.ROOT, "  %5s  %-10s  %20s  %14s  %s%n", "id", "type", "value",
                    "per second", "label") : String.format(Locale.ROOT, "  %5s  %-10s  %20s  %s%n", "id", "type",
                    "value", "label"));
            int hidden = 0;
            for (CountersFileReader.Counter counter : snapshot.counters()) {
                final Double rate = rates.get(counter.id());
                if (!all && counter.value() == 0 && (rate == null || rate == 0)) {
                    hidden++;
                    continue;
                }
                out.append(watching
                        ? String.format(Locale.ROOT, "  %5d  %-10s  %,20d  %14s  %s%n", counter.id(),
                                CounterType.name(counter.typeId()), counter.value(),
                                rate == null ? "-" : String.format(Locale.ROOT, "%,.1f", rate), counter.label())
                        : String.format(Locale.ROOT, "  %5d  %-10s  %,20d  %s%n", counter.id(),
                                CounterType.name(counter.typeId()), counter.value(), counter.label()));
            }
            if (hidden > 0) {
                out.append(String.format(Locale.ROOT, "  (%d counter(s) at zero not shown; --all shows them)%n",
                        hidden));
            }
            out.append("  drops by reason: ").append(snapshot.dropsLine()).append('\n');
            if (errors) {
                final List<CountersFileReader.ErrorRecord> records =
                        errorRecords.getOrDefault(snapshot.pid(), List.of());
                out.append(String.format(Locale.ROOT, "  %d distinct error(s)%n", records.size()));
                for (CountersFileReader.ErrorRecord record : records) {
                    out.append(String.format(Locale.ROOT, "  x%d first %s last %s%n    %s%n",
                            record.observationCount(), Instant.ofEpochMilli(record.firstEpochMs()),
                            Instant.ofEpochMilli(record.lastEpochMs()), record.text().strip().replace("\n", "\n    ")));
                }
            }
        }
        return out.toString();
    }

    private String json(final List<CounterSnapshot> snapshots, final Map<Long, CounterSnapshot> previous) {
        final StringBuilder out = new StringBuilder("{\"time\":\"").append(Instant.now()).append("\",\"processes\":[");
        boolean firstProcess = true;
        for (CounterSnapshot snapshot : filtered(snapshots)) {
            out.append(firstProcess ? "" : ",").append("{\"pid\":").append(snapshot.pid())
                    .append(",\"description\":").append(JsonText.string(snapshot.description()))
                    .append(",\"start_time\":\"").append(Instant.ofEpochMilli(snapshot.startEpochMs())).append('"')
                    .append(",\"counters\":[");
            firstProcess = false;
            final Map<Integer, Double> rates = snapshot.ratesSince(previous.get(snapshot.pid()));
            boolean firstCounter = true;
            for (CountersFileReader.Counter counter : snapshot.counters()) {
                final Double rate = rates.get(counter.id());
                if (!all && counter.value() == 0 && (rate == null || rate == 0)) {
                    continue;
                }
                out.append(firstCounter ? "" : ",").append("{\"id\":").append(counter.id()).append(",\"type\":\"")
                        .append(CounterType.name(counter.typeId())).append("\",\"label\":")
                        .append(JsonText.string(counter.label())).append(",\"value\":").append(counter.value());
                if (rate != null) {
                    out.append(",\"per_second\":").append(String.format(Locale.ROOT, "%.3f", rate));
                }
                out.append('}');
                firstCounter = false;
            }
            out.append("],\"drops_by_reason\":{");
            final StringBuilder drops = new StringBuilder();
            snapshot.dropsByReason().forEach((reason, count) -> drops.append(drops.isEmpty() ? "" : ",")
                    .append(JsonText.string(reason)).append(':').append(count));
            out.append(drops).append("}}");
        }
        return out.append("]}").toString();
    }
}

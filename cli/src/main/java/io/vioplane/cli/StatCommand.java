package io.vioplane.cli;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.CountersFileReader;
import io.vioplane.platform.runtime.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vioplane stat}: prints the live counters (and optionally the distinct errors) of running vioplane
 * processes, read from their counters files while they run (like Aeron's AeronStat).
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "Print the live counters of running vioplane processes.")
final class StatCommand implements Callable<Integer> {
    @Option(names = "--pid", description = "Only this process.")
    private Long pid;

    @Option(names = "--dir", paramLabel = "DIR", description = "Run directory (default: ${DEFAULT-VALUE}).")
    private Path directory = RunDirectory.resolve();

    @Option(names = "--errors", description = "Also print each distinct error with its count.")
    private boolean errors;

    @Option(names = "--filter", paramLabel = "TEXT", description = "Only counters whose label contains TEXT.")
    private String filter;

    @Option(names = "--watch", paramLabel = "SECONDS", description = "Print again every SECONDS until interrupted.")
    private Integer watchSeconds;

    @Override
    public Integer call() throws InterruptedException {
        final PrintStream out = System.out;
        while (true) {
            final int shown = printOnce(out);
            if (shown == 0) {
                out.println("no running vioplane process" + (pid == null ? "" : " with pid " + pid) + " in " + directory);
                if (watchSeconds == null) {
                    return 1;
                }
            }
            if (watchSeconds == null) {
                return 0;
            }
            Thread.sleep(watchSeconds * 1000L);
            out.println();
        }
    }

    private int printOnce(final PrintStream out) {
        final List<Path> files = CountersFileReader.liveFiles(directory);
        int shown = 0;
        for (Path file : files) {
            try (CountersFileReader reader = CountersFileReader.open(file)) {
                if (pid != null && reader.pid() != pid) {
                    continue;
                }
                shown++;
                print(reader, out);
            } catch (RuntimeException e) {
                out.println(file + ": unreadable (" + e.getMessage() + ")");
            }
        }
        return shown;
    }

    private void print(final CountersFileReader reader, final PrintStream out) {
        final Duration up = Duration.between(Instant.ofEpochMilli(reader.startEpochMs()), Instant.now());
        out.printf("pid %d  %s  up %dh%02dm%02ds  %s%n", reader.pid(), reader.description(), up.toHours(),
                up.toMinutesPart(), up.toSecondsPart(), reader.path());
        out.printf("  %5s  %-10s  %20s  %s%n", "id", "type", "value", "label");
        for (CountersFileReader.Counter counter : reader.counters()) {
            if (filter != null && !counter.label().contains(filter)) {
                continue;
            }
            out.printf("  %5d  %-10s  %20d  %s%n", counter.id(), CounterType.name(counter.typeId()), counter.value(),
                    counter.label());
        }
        if (errors) {
            final List<CountersFileReader.ErrorRecord> records = reader.errors();
            out.printf("  %d distinct error(s)%n", records.size());
            for (CountersFileReader.ErrorRecord record : records) {
                out.printf("  x%d first %s last %s%n    %s%n", record.observationCount(),
                        Instant.ofEpochMilli(record.firstEpochMs()), Instant.ofEpochMilli(record.lastEpochMs()),
                        record.text().strip().replace("\n", "\n    "));
            }
        }
    }
}

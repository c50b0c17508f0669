package io.vioplane.cli.conventions;

import io.vioplane.platform.runtime.CountersFileReader;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One process's counters read at one moment from its counters file, with the two views every consumer of them
 * shares: drops summed by reason (labels {@code "SCOPE[NAME] drops: REASON"}), and per-second rates against an
 * earlier snapshot.
 *
 * @param pid          the process
 * @param description  what the process is
 * @param startEpochMs when it started
 * @param path         its counters file
 * @param takenNs      {@link System#nanoTime()} when read
 * @param counters     every counter
 */
public record CounterSnapshot(long pid, String description, long startEpochMs, Path path, long takenNs,
                              List<CountersFileReader.Counter> counters) {
    private static final String DROPS = "drops: ";

    /** @return a snapshot of what {@code reader} shows now */
    public static CounterSnapshot of(final CountersFileReader reader) {
        return new CounterSnapshot(reader.pid(), reader.description(), reader.startEpochMs(), reader.path(),
                System.nanoTime(), reader.counters());
    }

    /** @return a snapshot of the counters file at {@code path} (a process's own, for its metrics endpoint) */
    public static CounterSnapshot read(final Path path) {
        try (CountersFileReader reader = CountersFileReader.open(path)) {
            return of(reader);
        }
    }

    /** @return the non-zero drops, summed by reason, in first-seen order */
    public Map<String, Long> dropsByReason() {
        final Map<String, Long> drops = new LinkedHashMap<>();
        for (CountersFileReader.Counter counter : counters) {
            final int at = counter.label().indexOf(DROPS);
            if (at >= 0 && counter.value() != 0) {
                drops.merge(counter.label().substring(at + DROPS.length()), counter.value(), Long::sum);
            }
        }
        return drops;
    }

    /** @return the drops as one line, e.g. {@code "capture ring full 436,563; port queue full 12"}, or "none" */
    public String dropsLine() {
        final Map<String, Long> drops = dropsByReason();
        if (drops.isEmpty()) {
            return "none";
        }
        final StringBuilder line = new StringBuilder();
        drops.forEach((reason, count) -> line.append(line.isEmpty() ? "" : "; ").append(reason).append(' ')
                .append(String.format(java.util.Locale.ROOT, "%,d", count)));
        return line.toString();
    }

    /**
     * @return counter id to its per-second rate since {@code earlier} (a snapshot of the same process), empty
     *     when there is none or no time passed
     */
    public Map<Integer, Double> ratesSince(final CounterSnapshot earlier) {
        final Map<Integer, Double> rates = new LinkedHashMap<>();
        if (earlier == null || earlier.pid != pid || takenNs <= earlier.takenNs) {
            return rates;
        }
        final Map<Integer, Long> before = new LinkedHashMap<>();
        earlier.counters.forEach(counter -> before.put(counter.id(), counter.value()));
        final double seconds = (takenNs - earlier.takenNs) / 1e9;
        for (CountersFileReader.Counter counter : counters) {
            final Long previous = before.get(counter.id());
            if (previous != null) {
                rates.put(counter.id(), (counter.value() - previous) / seconds);
            }
        }
        return rates;
    }
}

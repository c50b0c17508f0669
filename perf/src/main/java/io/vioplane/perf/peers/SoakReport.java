package io.vioplane.perf.peers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a {@link SoakRun} found: the run's settings and figures, each balance of the books with its numbers, the
 * daemon's resources at the baseline and at the end, and every check that failed. Thread-safe (the run's front-end
 * lanes report into it).
 */
public final class SoakReport {
    /** One balance: what was balanced, over how many frames, the equation with its numbers, and whether it held. */
    public record Balance(String name, long frames, String equation, boolean holds) {
    }

    /** A failed check: which, and what was seen. */
    public record Failure(String check, String detail) {
    }

    private final Map<String, String> settings = new LinkedHashMap<>();
    private final List<Balance> balances = new ArrayList<>();
    private final List<Failure> failures = new ArrayList<>();
    private ProcessResources baseline;
    private ProcessResources end;

    synchronized void setting(final String name, final String value) {
        settings.put(name, value);
    }

    synchronized void fail(final String check, final String detail) {
        failures.add(new Failure(check, detail));
    }

    synchronized void balance(final String name, final long frames, final String equation, final boolean holds) {
        balances.add(new Balance(name, frames, equation, holds));
        if (!holds) {
            failures.add(new Failure(name, "does not balance: " + equation));
        }
    }

    synchronized void resources(final ProcessResources atBaseline, final ProcessResources atEnd) {
        this.baseline = atBaseline;
        this.end = atEnd;
    }

    /** @return true if every balance held and no check failed */
    public synchronized boolean passed() {
        return failures.isEmpty();
    }

    /** @return the failed checks, in the order they were found */
    public synchronized List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** @return the balances, in the order they were drawn */
    public synchronized List<Balance> balances() {
        return List.copyOf(balances);
    }

    /** @return the report as text: settings and figures, balances, resources, failures, verdict */
    public synchronized String text() {
        final StringBuilder text = new StringBuilder();
        settings.forEach((name, value) -> text.append(String.format(Locale.ROOT, "  %-22s %s%n", name, value)));
        text.append("  accounting at the daemon's boundary, per port:\n");
        for (Balance balance : balances) {
            text.append(String.format(Locale.ROOT, "    %-4s %-44s %s%n", balance.holds() ? "ok" : "FAIL",
                    balance.name(), balance.equation()));
        }
        if (baseline != null) {
            text.append("  daemon resources (after a full GC; baseline after the warm-up -> end):\n");
            text.append(String.format(Locale.ROOT, "    RSS %,d -> %,d KiB (anon %,d -> %,d, shmem %,d -> %,d),"
                            + " heap in use %,d -> %,d KiB, native (NMT Other) %,d -> %,d KiB%n", baseline.rssKb(),
                    end.rssKb(), baseline.rssAnonKb(), end.rssAnonKb(), baseline.rssShmemKb(), end.rssShmemKb(),
                    baseline.heapUsedKb(), end.heapUsedKb(), baseline.nativeOtherKb(), end.nativeOtherKb()));
            text.append(String.format(Locale.ROOT, "    threads %d -> %d (outside the JVM's own pools %d -> %d),"
                            + " descriptors %d -> %d, shared mappings %d -> %d%n", baseline.threads().size(),
                    end.threads().size(), baseline.fixedThreads().size(), end.fixedThreads().size(),
                    baseline.descriptorCount(), end.descriptorCount(), baseline.sharedMappings().size(),
                    end.sharedMappings().size()));
        }
        for (Failure failure : failures) {
            text.append("  FAILED ").append(failure.check()).append(": ").append(failure.detail()).append('\n');
        }
        text.append(failures.isEmpty() ? "  PASSED: every frame accounted for, resources back at the baseline, no"
                + " unexplained log line or error\n" : "  " + failures.size() + " check(s) FAILED\n");
        return text.toString();
    }
}

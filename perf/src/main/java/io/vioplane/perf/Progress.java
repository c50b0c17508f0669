package io.vioplane.perf;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Says what a long run is doing: the phase, step n of m, what runs now and about how long is left. On a terminal it
 * redraws one line in place (and clears it at the end, so the tables stay clean); redirected, it prints one line
 * per step. It writes to standard error, so a redirected standard output holds only the report.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private String phase = "";
    private int total;
    private int started;
    private double estimateSecondsPerStep;
    private long phaseStartNs;
    private long stepStartNs;
    private double finishedSeconds;

    /**
     * @param out      where progress lines go
     * @param terminal redraw in place (a terminal) rather than one line per step
     */
    public Progress(final PrintStream out, final boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** @return progress on standard error, redrawn in place when it is a terminal */
    public static Progress onStandardError() {
        return new Progress(System.err, isTerminal(2));
    }

    /** @return true if file descriptor {@code fd} of this process is a terminal (Linux: /proc/self/fd/N) */
    public static boolean isTerminal(final int fd) {
        try {
            final String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Starts a phase of {@code steps} steps.
     *
     * @param estimateSecondsPerStep the expected length of one step, until steps have been timed
     */
    public synchronized void begin(final String phaseName, final int steps, final double estimateSecondsPerStep) {
        this.phase = phaseName;
        this.total = steps;
        this.started = 0;
        this.estimateSecondsPerStep = estimateSecondsPerStep;
        this.finishedSeconds = 0;
        this.phaseStartNs = System.nanoTime();
    }

    /** Says that the next step, {@code what}, starts now. */
    public synchronized void step(final String what) {
        final long now = System.nanoTime();
        if (started > 0) {
            finishedSeconds += (now - stepStartNs) / 1e9;
        }
        stepStartNs = now;
        started++;
        final String line = line(what, secondsLeft());
        if (terminal) {
            out.print("\r\033[K" + line);
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Ends the phase (on a terminal, clears the progress line). */
    public synchronized void end() {
        if (terminal && started > 0) {
            out.print("\r\033[K");
            out.flush();
        }
        started = 0;
    }

    /** @return about how many seconds the steps not yet finished will take */
    synchronized double secondsLeft() {
        final int finished = Math.max(0, started - 1);
        final double perStep = finished == 0 ? estimateSecondsPerStep : finishedSeconds / finished;
        return Math.max(0, (total - finished) * perStep);
    }

    /** @return the progress line for step {@link #started} of {@link #total}, e.g. "[JMH 3/20] x: about 1m05s left" */
    String line(final String what, final double secondsLeft) {
        return String.format(Locale.ROOT, "[%s %d/%d] %s: about %s left", phase, started, total, what,
                duration(secondsLeft));
    }

    /** @return seconds as {@code 45s}, {@code 3m05s} or {@code 1h02m} */
    public static String duration(final double seconds) {
        final long s = Math.round(seconds);
        return s < 60 ? s + "s" : s < 3600 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60)
                : String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }

    /** @return seconds since {@link #begin} */
    public synchronized double elapsedSeconds() {
        return (System.nanoTime() - phaseStartNs) / 1e9;
    }
}

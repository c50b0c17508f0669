package io.vioplane.platform.runtime;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The process's log, the one sink every component is given: lifecycle lines ({@link #info}) are printed as they
 * come; failures ({@link #failure}, {@link #onError}) are counted, recorded once per distinct kind in the counters
 * file's {@link DistinctErrorLog}, and printed only the first time their kind is seen. A peer that provokes the same
 * failure a million times costs a million counter increments and one line (the Aeron/Agrona distinct-error pattern).
 *
 * <p>A kind is a failure's text, or an exception's class and message. At most {@link #MAX_PRINTED_KINDS} kinds are
 * printed; after that one line says that further kinds are only recorded. Thread-safe.
 */
public final class ErrorLog implements ErrorHandler {
    /** Distinct kinds printed before printing stops. */
    public static final int MAX_PRINTED_KINDS = 256;
    /** Bytes of distinct-error log kept in memory by a log made without a counters file. */
    static final int IN_MEMORY_LOG_BYTES = 64 * 1024;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_TIME;

    private final DistinctErrorLog log;
    private final AtomicCounter errorCount;
    private final Consumer<String> out;
    private final Set<String> printed = ConcurrentHashMap.newKeySet();

    /**
     * @param log        where distinct errors are recorded
     * @param errorCount counts every error
     * @param out        where lines are printed
     */
    public ErrorLog(final DistinctErrorLog log, final AtomicCounter errorCount, final PrintStream out) {
        this(log, errorCount, (Consumer<String>) out::println);
    }

    private ErrorLog(final DistinctErrorLog log, final AtomicCounter errorCount, final Consumer<String> out) {
        this.log = Objects.requireNonNull(log);
        this.errorCount = Objects.requireNonNull(errorCount);
        this.out = Objects.requireNonNull(out);
    }

    /** @return an error log over {@code file}'s log, with its own "errors" counter, printing to stderr */
    public static ErrorLog in(final CountersFile file) {
        return in(file, System.err);
    }

    /** @return an error log over {@code file}'s log, with its own "errors" counter, printing to {@code out} */
    public static ErrorLog in(final CountersFile file, final PrintStream out) {
        return new ErrorLog(file.errorLog(), file.newCounter("errors", CounterType.PROCESS), out);
    }

    /** @return a log recorded in this process's memory only, printing to {@code out} (tests, embedded use) */
    public static ErrorLog printingTo(final PrintStream out) {
        return printingTo((Consumer<String>) out::println);
    }

    /** @return a log recorded in this process's memory only, handing each printed line to {@code lines} */
    public static ErrorLog printingTo(final Consumer<String> lines) {
        final DistinctErrorLog distinct = new DistinctErrorLog(
                new UnsafeBuffer(ByteBuffer.allocateDirect(IN_MEMORY_LOG_BYTES)), SystemEpochClock.INSTANCE,
                StandardCharsets.UTF_8);
        return new ErrorLog(distinct, Counters.inMemory(1).counter("errors", CounterType.PROCESS), lines);
    }

    /** Prints a lifecycle line (a connection, a ring started, a link down): not a failure, printed every time. */
    public void info(final String line) {
        out.accept(stamped(line));
    }

    /**
     * Reports a failure, typically provoked by a peer (a refused request, a broken ring): counted, recorded, and
     * printed the first time this text is seen.
     */
    public void failure(final String line) {
        errorCount.increment();
        log.record(new Failure(line));
        printOnce(line, line);
    }

    @Override
    public void onError(final Throwable error) {
        errorCount.increment();
        log.record(error);
        final String kind = error.getClass().getName() + ": " + error.getMessage();
        printOnce(kind, "vioplane error (logged once per kind): " + kind);
    }

    private void printOnce(final String kind, final String line) {
        if (printed.size() < MAX_PRINTED_KINDS) {
            if (printed.add(kind)) {
                out.accept(stamped(line));
            }
        } else if (printed.add("<limit>")) {
            out.accept(stamped("vioplane: more than " + MAX_PRINTED_KINDS + " kinds of error; further kinds are only"
                    + " recorded in the counters file (vioplane stat --errors)"));
        }
    }

    private static String stamped(final String line) {
        return LocalTime.now().format(TIME) + " " + line;
    }

    /** @return how many errors were reported */
    public long count() {
        return errorCount.get();
    }

    /** A failure reported as text, recorded in the distinct log by its message (no stack trace is taken). */
    private static final class Failure extends RuntimeException {
        Failure(final String message) {
            super(message, null, false, false);
        }
    }
}

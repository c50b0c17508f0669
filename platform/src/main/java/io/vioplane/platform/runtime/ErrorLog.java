package io.vioplane.platform.runtime;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process's error log: every error is counted and recorded once per distinct kind in the counters
 * file's {@link DistinctErrorLog}, and printed to standard error the first time its kind is seen. A peer
 * that provokes the same error a million times costs a million counter increments and one line.
 *
 * <p>A kind is the exception's class and message. At most {@link #MAX_PRINTED_KINDS} kinds are printed;
 * after that one line says that further kinds are only recorded.
 */
public final class ErrorLog implements ErrorHandler {
    /** Distinct kinds printed before printing stops. */
    public static final int MAX_PRINTED_KINDS = 256;

    private final DistinctErrorLog log;
    private final AtomicCounter errorCount;
    private final PrintStream out;
    private final Set<String> printed = ConcurrentHashMap.newKeySet();

    /**
     * @param log        where distinct errors are recorded
     * @param errorCount counts every error
     * @param out        where first occurrences are printed
     */
    public ErrorLog(final DistinctErrorLog log, final AtomicCounter errorCount, final PrintStream out) {
        this.log = log;
        this.errorCount = errorCount;
        this.out = out;
    }

    /** @return an error log over {@code file}'s log, with its own "errors" counter, printing to stderr */
    public static ErrorLog in(final CountersFile file) {
        return new ErrorLog(file.errorLog(), file.newCounter("errors", CounterType.PROCESS), System.err);
    }

    @Override
    public void onError(final Throwable error) {
        errorCount.increment();
        log.record(error);
        final String kind = error.getClass().getName() + ": " + error.getMessage();
        if (printed.size() < MAX_PRINTED_KINDS) {
            if (printed.add(kind)) {
                out.println("vioplane error (logged once per kind): " + kind);
            }
        } else if (printed.add("<limit>")) {
            out.println("vioplane: more than " + MAX_PRINTED_KINDS + " kinds of error; further kinds are only recorded"
                    + " in the counters file (vioplane stat --errors)");
        }
    }

    /** @return how many errors were reported */
    public long count() {
        return errorCount.get();
    }
}

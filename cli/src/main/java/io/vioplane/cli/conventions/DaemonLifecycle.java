package io.vioplane.cli.conventions;

import io.vioplane.platform.runtime.CountersFile;
import sun.misc.Signal;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * What every vioplane daemon does around its own work, so a daemon command needs a few lines:
 *
 * <pre>{@code
 * try (DaemonLifecycle lifecycle = DaemonLifecycle.begin(daemonOptions, System.err);
 *      MyDaemon daemon = ArgumentChecks.starting(() -> MyDaemon.start(config))) {
 *     lifecycle.serve(daemon.countersFile(), "what it serves");
 * }
 * return ExitCodes.OK;
 * }</pre>
 *
 * <ul>
 *   <li>{@link #begin}: checks {@code --pid-file} and binds {@code --metrics-listen} with the other arguments, and
 *       takes over SIGTERM and SIGINT (signal(7)) so that a stop is an orderly return with exit 0 (a second signal
 *       while stopping exits at once).</li>
 *   <li>{@link #serve}: serves the metrics endpoint, writes the pid file, prints {@code vioplane: ready (...)} (the
 *       line scripts and tests wait for), tells the service manager {@code READY=1} (sd_notify(3)); waits for the
 *       signal; then tells it {@code STOPPING=1}, prints {@code vioplane: stopping} and the exit summary (drops by
 *       reason) while the counters still exist.</li>
 *   <li>{@link #close}: stops the endpoint and removes the pid file.</li>
 * </ul>
 */
public final class DaemonLifecycle implements AutoCloseable {
    private final PrintStream log;
    private final Path pidFile;
    private final MetricsEndpoint metrics;
    private final SdNotify notify = SdNotify.fromEnvironment();
    private final CountDownLatch stop = new CountDownLatch(1);
    private boolean pidFileWritten;

    private DaemonLifecycle(final PrintStream log, final Path pidFile, final MetricsEndpoint metrics) {
        this.log = log;
        this.pidFile = pidFile;
        this.metrics = metrics;
    }

    /**
     * Checks the daemon options and takes over SIGTERM and SIGINT.
     *
     * @param log the daemon's log (standard error)
     * @throws UserError naming the option at fault
     */
    public static DaemonLifecycle begin(final DaemonOptions options, final PrintStream log) {
        ArgumentChecks.checkParentDirectory("--pid-file", options.pidFile);
        final InetSocketAddress address = options.metricsListen == null ? null
                : MetricsEndpoint.parse("--metrics-listen", options.metricsListen);
        final DaemonLifecycle lifecycle = new DaemonLifecycle(log, options.pidFile,
                address == null ? null : MetricsEndpoint.bind("--metrics-listen", address));
        Signal.handle(new Signal("TERM"), lifecycle::signalled);
        Signal.handle(new Signal("INT"), lifecycle::signalled);
        return lifecycle;
    }

    /** The first SIGTERM or SIGINT stops the daemon in order; a second one while it stops ends it at once. */
    private void signalled(final Signal signal) {
        if (stop.getCount() == 0) {
            log.println("vioplane: SIG" + signal.getName() + " again while stopping: exiting at once");
            Runtime.getRuntime().halt(ExitCodes.FAILURE);
        }
        stop.countDown();
    }

    /**
     * Announces readiness, serves until SIGTERM or SIGINT, then announces the stop and prints the exit summary.
     *
     * @param counters the daemon's counters file (served at /metrics, summarised at exit)
     * @param what     what the daemon serves, for the ready line (e.g. "echo, 1 queue pair(s)")
     */
    public void serve(final CountersFile counters, final String what) throws InterruptedException {
        ready(counters, what);
        stop.await();
        stopping(counters);
    }

    private void ready(final CountersFile counters, final String what) {
        final long pid = ProcessHandle.current().pid();
        if (metrics != null) {
            metrics.serve(counters.path());
        }
        if (pidFile != null) {
            try {
                Files.writeString(pidFile, pid + "\n");
                pidFileWritten = true;
            } catch (IOException e) {
                throw UserError.failure(pidFile.toString(), "cannot write the pid file: " + e.getMessage(), e);
            }
        }
        final String endpoint = metrics == null ? "" : ", metrics: http://" + hostPort(metrics.address()) + "/metrics";
        log.println("vioplane: ready (" + what + ", counters: vioplane stat --pid " + pid + endpoint + ")");
        report(notify.send("READY=1\nMAINPID=" + pid + "\nSTATUS=ready: " + what));
    }

    private void stopping(final CountersFile counters) {
        report(notify.send("STOPPING=1\nSTATUS=stopping"));
        log.println("vioplane: stopping");
        log.println("vioplane: drops by reason: " + CounterSnapshot.read(counters.path()).dropsLine());
    }

    private void report(final String failure) {
        if (failure != null) {
            log.println("vioplane: sd_notify: " + failure);
        }
    }

    private static String hostPort(final InetSocketAddress address) {
        final String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** Stops the metrics endpoint and removes the pid file. */
    @Override
    public void close() {
        if (metrics != null) {
            metrics.close();
        }
        if (pidFileWritten) {
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException e) {
                log.println("vioplane: cannot remove " + pidFile + ": " + e.getMessage());
            }
        }
    }
}

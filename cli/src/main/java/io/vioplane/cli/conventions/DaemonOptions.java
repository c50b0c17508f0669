package io.vioplane.cli.conventions;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The options every vioplane daemon takes ({@code @Mixin DaemonOptions daemon;}), handled by
 * {@link DaemonLifecycle}: a pid file and a Prometheus metrics endpoint.
 */
public final class DaemonOptions {
    @Option(names = "--pid-file", paramLabel = "FILE",
            description = "Write the daemon's process id to FILE once it is ready; removed when it stops.")
    Path pidFile;

    @Option(names = "--metrics-listen", paramLabel = "[ADDR:]PORT",
            description = "Serve the counters at http://ADDR:PORT/metrics in the Prometheus text format"
                    + " (ADDR defaults to loopback).")
    String metricsListen;
}

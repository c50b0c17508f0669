package io.vioplane.cli.daemon;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vhostuser.transport.VhostUserHandler;
import io.vioplane.vhostuser.transport.EventLoops;
import io.vioplane.vhostuser.transport.VhostUserClient;
import io.vioplane.vhostuser.transport.VhostUserServer;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;

/**
 * What every vhost-user daemon of vioplane shares (QEMU docs/interop/vhost-user.rst, "Backend program
 * conventions"), whatever device it serves: the counters file {@code vioplane stat} reads, the de-duplicating
 * error log, one data-plane thread, one control-plane event loop, the sockets served (listening, or connecting
 * and reconnecting in client mode), and the order things stop in: sockets first, then the control plane, the
 * data plane, the daemon's own resources (last opened first), the counters file.
 */
public final class DaemonRuntime {
    private final CountersFile countersFile;
    private final Counters counters;
    private final ErrorLog errorLog;
    private final DataPlane dataPlane;
    private final IoEventLoopGroup controlPlane;
    private final List<AutoCloseable> endpoints = new ArrayList<>();

    /**
     * Creates the counters file and starts the threads.
     *
     * @param description  names the process in {@code vioplane stat}
     * @param busyPoll     never block the data plane (benchmarks)
     * @param dataPlaneCpu the CPU the data-plane thread is pinned to, or -1
     * @param log          where the error log prints (lifecycle lines, first failures)
     */
    public DaemonRuntime(final String description, final boolean busyPoll, final int dataPlaneCpu,
                         final PrintStream log) {
        this(description, busyPoll, dataPlaneCpu, -1, -1, log);
    }

    /**
     * As above, with the data plane's idle policy ({@link DataPlane}'s spins and yields before it blocks; -1 for
     * the default).
     */
    public DaemonRuntime(final String description, final boolean busyPoll, final int dataPlaneCpu,
                         final long idleSpins, final long idleYields, final PrintStream log) {
        this.countersFile = CountersFile.create(description);
        this.counters = Counters.in(countersFile);
        this.errorLog = ErrorLog.in(countersFile, log);
        this.dataPlane = idleSpins < 0 ? new DataPlane("vioplane-dataplane", busyPoll, dataPlaneCpu, errorLog)
                : new DataPlane("vioplane-dataplane", busyPoll, dataPlaneCpu, idleSpins, idleYields, errorLog);
        this.controlPlane = EventLoops.newControlPlane("vioplane-control");
    }

    /** @return the process's counters file */
    public CountersFile countersFile() {
        return countersFile;
    }

    /** @return where counters are allocated */
    public Counters counters() {
        return counters;
    }

    /** @return the process's one log sink (ErrorLog: info lines, de-duplicated failures in the counters file) */
    public ErrorLog errorLog() {
        return errorLog;
    }

    /** @return the data-plane thread */
    public DataPlane dataPlane() {
        return dataPlane;
    }

    /**
     * Serves a vhost-user socket with a fresh handler per front-end connection.
     *
     * @param client     connect to the front-end's socket (and reconnect) instead of listening
     * @param socketMode permission bits of a listening socket
     * @return the endpoint, closed by {@link #close}
     */
    public AutoCloseable serve(final Path path, final Supplier<VhostUserHandler> handlers, final boolean client,
                               final int socketMode) {
        final AutoCloseable endpoint;
        if (client) {
            endpoint = VhostUserClient.builder(path, handlers).eventLoopGroup(controlPlane).counters(countersFile)
                    .log(errorLog).start();
            errorLog.info("vioplane: connecting to " + path + " (client mode)");
        } else {
            endpoint = VhostUserServer.builder(path, handlers).eventLoopGroup(controlPlane).socketMode(socketMode)
                    .counters(countersFile).log(errorLog).start();
            errorLog.info("vioplane: listening on " + path);
        }
        endpoints.add(endpoint);
        return endpoint;
    }

    /** @return true while a front-end is connected to {@code endpoint} (server or client mode) */
    public static boolean connected(final AutoCloseable endpoint) {
        return endpoint instanceof VhostUserServer server ? server.activeConnection() != null
                : ((VhostUserClient) endpoint).activeConnection() != null;
    }

    /**
     * Stops everything: the sockets (closed and removed), the control plane, the data plane, then
     * {@code resources} in reverse order, then the counters file.
     */
    public void close(final List<AutoCloseable> resources) {
        for (AutoCloseable endpoint : endpoints) {
            closeQuietly(endpoint);
        }
        EventLoops.shutdown(controlPlane);
        dataPlane.close();
        final List<AutoCloseable> reversed = new ArrayList<>(resources);
        Collections.reverse(reversed);
        for (AutoCloseable resource : reversed) {
            if (!endpoints.contains(resource)) {
                closeQuietly(resource);
            }
        }
        countersFile.close();
    }

    private void closeQuietly(final AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            errorLog.failure("vioplane: while closing " + resource + ": " + e);
        }
    }
}

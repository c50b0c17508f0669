package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.DaemonLifecycle;
import io.vioplane.cli.conventions.DaemonOptions;
import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.SocketPaths;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.cli.daemon.VhostUserBlkDaemon;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code vioplane vhost-user-blk}: the vhost-user virtio-blk back-end daemon over a raw image. Runs in the
 * foreground, says when its socket listens, keeps serving when a front-end goes away, and on SIGTERM or SIGINT
 * completes outstanding I/O, closes the image and removes its socket.
 */
@Command(name = "vhost-user-blk", mixinStandardHelpOptions = true,
        description = "Serve a raw image as a virtio-blk device to QEMU over a vhost-user socket.")
final class VhostUserBlkCommand implements Callable<Integer> {
    @Option(names = "--socket-path", paramLabel = "PATH", required = true, description = "vhost-user socket.")
    private Path socketPath;

    @Option(names = "--image", paramLabel = "FILE", required = true, description = "Raw image: a file or a block device.")
    private Path image;

    @Option(names = "--read-only", description = "Refuse writes (the guest sees a read-only disk).")
    private boolean readOnly;

    @Option(names = "--queues", defaultValue = "1", description = "Request queues (default: ${DEFAULT-VALUE}).")
    private int queues;

    @Option(names = "--direct", description = "Bypass the host page cache (O_DIRECT).")
    private boolean direct;

    @ArgGroup(exclusive = true)
    private CacheMode cacheMode = new CacheMode();

    @Option(names = "--serial", defaultValue = "vioplane-blk", description = "Serial the guest reads (default: ${DEFAULT-VALUE}).")
    private String serial;

    @Option(names = "--client", description = "Connect to the front-end's socket (and reconnect) instead of listening.")
    private boolean client;

    @Option(names = "--socket-mode", paramLabel = "OCTAL", defaultValue = "0600",
            description = "Permissions of the listening socket (default: ${DEFAULT-VALUE}).")
    private String socketMode;

    @Option(names = "--busy-poll", description = "Never let the data-plane thread sleep (benchmarks: burns a core).")
    private boolean busyPoll;

    @Option(names = "--cpu", defaultValue = "-1", description = "Pin the data-plane thread to this CPU.")
    private int cpu;

    @Mixin
    private DaemonOptions daemonOptions = new DaemonOptions();

    /** --writeback or --writethrough. */
    static final class CacheMode {
        @Option(names = "--writeback", description = "Complete writes before they are durable; FLUSH makes them so"
                + " (the default).")
        boolean writeback;

        @Option(names = "--writethrough", description = "Complete a write only once it is durable.")
        boolean writethrough;
    }

    @Override
    public Integer call() throws InterruptedException {
        final VhostUserBlkDaemon.Config config;
        try {
            config = new VhostUserBlkDaemon.Config(socketPath, client, parseSocketMode(), image, readOnly, queues,
                    direct, !cacheMode.writethrough, serial, busyPoll, cpu);
        } catch (IllegalArgumentException e) {
            throw UserError.usage(null, e.getMessage());
        }
        ArgumentChecks.checkCpu("--cpu", cpu);
        if (!Files.exists(image)) {
            throw UserError.usage("--image", image + ": no such file or device");
        }
        if (!client) {
            SocketPaths.checkListenable(socketPath);
        }
        try (DaemonLifecycle lifecycle = DaemonLifecycle.begin(daemonOptions, System.err);
             VhostUserBlkDaemon daemon = ArgumentChecks.starting(() -> VhostUserBlkDaemon.start(config, System.err))) {
            lifecycle.serve(daemon.countersFile(), image + (readOnly ? " read-only" : "") + ", " + queues
                    + " queue(s), " + (cacheMode.writethrough ? "writethrough" : "writeback"));
        }
        return ExitCodes.OK;
    }

    private int parseSocketMode() {
        try {
            return Integer.parseInt(socketMode, 8);
        } catch (NumberFormatException e) {
            throw UserError.usage("--socket-mode", "not an octal mode: " + socketMode);
        }
    }
}

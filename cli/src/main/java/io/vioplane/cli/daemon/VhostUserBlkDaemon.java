package io.vioplane.cli.daemon;

import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.vhostuser.backend.VhostUserBackend;
import io.vioplane.vhostuser.blk.BlkVhostUserDevice;
import io.vioplane.virtioblk.BlkLimits;
import io.vioplane.virtioblk.BlkRequestType;
import io.vioplane.virtioblk.VirtioBlkConfig;
import io.vioplane.virtioblk.VirtioBlkFeature;
import io.vioplane.virtioblk.backend.RawImageBackend;
import io.vioplane.virtioblk.engine.VirtioBlkDevice;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The vhost-user virtio-blk daemon (QEMU docs/interop/vhost-user.rst, "Backend program conventions"; VIRTIO 1.x
 * section 5.2): one block device over a raw image, served on one socket in server mode (the default) or client
 * mode. A front-end that disconnects leaves the daemon serving the next one; {@link #close()} stops the rings after
 * their outstanding I/O, closes the image, removes the socket and the counters file.
 *
 * <p>Capacity changes: a thread of its own (never the data plane) looks at the image's size once every
 * {@link #CAPACITY_CHECK_MS} ms (one fstat(2)); when it changed, the device's capacity follows and the connected
 * front-end is told with VHOST_USER_BACKEND_CONFIG_CHANGE_MSG (also when a GET_CONFIG saw the change first), after
 * which QEMU reads the configuration again and gives the guest a configuration change interrupt (the guest's
 * virtio_blk then resizes the disk). Growing the image on the host ({@code truncate -s +1G disk.img},
 * {@code qemu-img resize -f raw disk.img +1G}) is all it takes.
 */
public final class VhostUserBlkDaemon implements AutoCloseable {
    /**
     * The daemon's configuration, validated once.
     *
     * @param socketPath   the vhost-user socket
     * @param client       connect to the front-end's socket instead of listening
     * @param socketMode   permission bits of a listening socket
     * @param image        the raw image (file or block device)
     * @param readOnly     refuse writes
     * @param queues       request queues
     * @param direct       bypass the host page cache (O_DIRECT)
     * @param writeback    start in writeback mode (false: writethrough, every write durable before it completes)
     * @param serial       the GET_ID answer (at most 20 ASCII bytes)
     * @param busyPoll     never block the data plane (benchmarks)
     * @param dataPlaneCpu the CPU the data-plane thread is pinned to, or -1
     */
    public record Config(Path socketPath, boolean client, int socketMode, Path image, boolean readOnly, int queues,
                         boolean direct, boolean writeback, String serial, boolean busyPoll, int dataPlaneCpu) {
        /** Checks the configuration, naming the option at fault. */
        public Config {
            if (socketPath == null) {
                throw new IllegalArgumentException("--socket-path is required");
            }
            if (image == null) {
                throw new IllegalArgumentException("--image is required");
            }
            if (queues < 1 || queues > 64) {
                throw new IllegalArgumentException("--queues must be 1..64: " + queues);
            }
            if (serial.length() > BlkRequestType.ID_BYTES || !serial.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
                throw new IllegalArgumentException("--serial must be at most 20 printable ASCII characters: " + serial);
            }
        }
    }

    /**
     * Idle polls of the data plane before it blocks (no yields): block I/O completes as task work of the submitting
     * thread, which a spinning or yielding thread on a shared CPU delays (see {@link DataPlane}). Measured with
     * {@code vioplane bench --peers blk}: half the CPU per request of the default policy on disk.
     */
    static final long IDLE_SPINS = 200;

    /** How often the image's size is looked at. */
    public static final long CAPACITY_CHECK_MS = 1_000;

    private final Config config;
    private final DaemonRuntime runtime;
    private final ScheduledExecutorService capacityWatch = Executors.newSingleThreadScheduledExecutor(task -> {
        final Thread thread = new Thread(task, "vioplane-blk-capacity");
        thread.setDaemon(true);
        return thread;
    });
    private volatile VhostUserBackend frontEnd;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private VirtioBlkDevice device;
    private AutoCloseable endpoint;

    private VhostUserBlkDaemon(final Config config, final PrintStream log) {
        this.config = config;
        this.runtime = new DaemonRuntime("vioplane vhost-user-blk " + config.socketPath(), config.busyPoll(),
                config.dataPlaneCpu(), IDLE_SPINS, 0, log);
    }

    /**
     * Opens the image and starts serving: the socket listens (or connects) when this returns.
     *
     * @param log where the daemon's log prints (standard error for the daemon)
     */
    public static VhostUserBlkDaemon start(final Config config, final PrintStream log) {
        final VhostUserBlkDaemon daemon = new VhostUserBlkDaemon(config, log);
        try {
            daemon.startDevice();
            return daemon;
        } catch (RuntimeException e) {
            daemon.close();
            throw e;
        }
    }

    private void startDevice() {
        final RawImageBackend backend = RawImageBackend.open(config.image(), config.readOnly(), config.direct());
        closing.add(backend);
        final VirtioBlkConfig blkConfig = new VirtioBlkConfig(backend.sizeBytes() >>> BlkRequestType.SECTOR_SHIFT,
                BlkLimits.DEFAULT, config.queues(), config.writeback());
        device = new VirtioBlkDevice("blk[" + config.socketPath() + "]", blkConfig,
                VirtioBlkFeature.offered(config.readOnly(), config.queues()), backend, config.serial(),
                runtime.counters(), new VirtioBlkDevice.CompletionWatch() {
                    @Override
                    public void watch(final io.vioplane.platform.sys.EventFd signal, final int queueIndex) {
                        runtime.dataPlane().watch(signal, count -> { });
                    }

                    @Override
                    public void unwatch(final io.vioplane.platform.sys.EventFd signal) {
                        runtime.dataPlane().unwatch(signal);
                    }
                }, runtime.errorLog());
        device.setCapacityListener(this::capacityChanged);
        final BlkVhostUserDevice vhostDevice = new BlkVhostUserDevice(device);
        endpoint = runtime.serve(config.socketPath(), () -> {
            final VhostUserBackend connection = new VhostUserBackend(vhostDevice, runtime.dataPlane(),
                    runtime.errorLog());
            frontEnd = connection;
            return connection;
        }, config.client(), config.socketMode());
        capacityWatch.scheduleWithFixedDelay(this::checkCapacity, CAPACITY_CHECK_MS, CAPACITY_CHECK_MS,
                TimeUnit.MILLISECONDS);
        runtime.errorLog().info("vioplane: serving " + backend.name() + ", " + blkConfig.capacitySectors() + " sectors, "
                + (config.writeback() ? "writeback" : "writethrough"));
    }

    /**
     * Looks at the image's size now (the watch thread does it every {@link #CAPACITY_CHECK_MS} ms): if it changed,
     * the device takes the new capacity and the front-end is told (BACKEND_CONFIG_CHANGE_MSG).
     *
     * @return true if the capacity changed
     */
    public boolean checkCapacity() {
        try {
            return device.refreshCapacity();
        } catch (RuntimeException e) {
            runtime.errorLog().failure("vioplane: checking the size of " + config.image() + ": " + e.getMessage());
            return false;
        }
    }

    /** Tells the front-end of a new capacity, from the watch thread (never the control plane, which QEMU needs). */
    private void capacityChanged(final long sectors) {
        try {
            capacityWatch.execute(() -> {
                final VhostUserBackend current = frontEnd;
                final boolean told = current != null && current.notifyConfigChanged(5_000);
                runtime.errorLog().info("vioplane: " + config.image() + " is now " + sectors + " sectors; "
                        + (told ? "front-end told (BACKEND_CONFIG_CHANGE_MSG)"
                        : "no front-end with a back-end channel to tell"));
            });
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the daemon is stopping: no front-end to tell
        }
    }

    /** @return the block device */
    public VirtioBlkDevice device() {
        return device;
    }

    /** @return true while a front-end is connected */
    public boolean connected() {
        return endpoint != null && DaemonRuntime.connected(endpoint);
    }

    /** @return the runtime (counters file, data plane) */
    public DaemonRuntime runtime() {
        return runtime;
    }

    /** @return the daemon's counters file (what {@code vioplane stat} and the metrics endpoint read) */
    public CountersFile countersFile() {
        return runtime.countersFile();
    }

    /** Stops serving: socket closed and removed, rings drained and stopped, image closed, counters file deleted. */
    @Override
    public void close() {
        capacityWatch.shutdownNow();
        try {
            capacityWatch.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runtime.close(closing);
    }
}

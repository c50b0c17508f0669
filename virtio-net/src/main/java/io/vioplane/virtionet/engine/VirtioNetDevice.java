package io.vioplane.virtionet.engine;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.QueueState;
import io.vioplane.vring.RingViolation;
import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.device.DeviceContext;
import io.vioplane.vring.device.FeatureRules;
import io.vioplane.vring.device.QueueServingDevice;

import java.lang.foreign.MemorySegment;

/**
 * A virtio network device (VIRTIO 1.x section 5.1, device id 1), independent of its transport: queue
 * {@code 2k} receives and {@code 2k+1} transmits for queue pair {@code k}, queue {@code 2N} is the control
 * queue. Frames go to and come from one {@link NetPort}.
 *
 * <p>Queues start and stop one at a time ({@link #startQueue}, {@link #stopQueue}: vhost-user starts a ring at
 * its first kick and stops it at GET_VRING_BASE) or all at once at DRIVER_OK ({@link #activate}: virtio-pci,
 * virtio-mmio). Everything but the lifecycle methods runs on the data-plane thread: the device is a
 * {@link DataPlane.Pollable}. A queue the guest breaks stops alone; the device reports it through the
 * {@link DeviceContext.NeedsResetListener} so the transport can set DEVICE_NEEDS_RESET.
 */
public final class VirtioNetDevice implements QueueServingDevice, DataPlane.Pollable, ControlQueueEngine.DeviceControl {
    /** The virtio device id of a network device. */
    public static final int DEVICE_ID = 1;
    /** The default and largest queue size offered. */
    public static final int MAX_QUEUE_SIZE = 1024;

    private final String name;
    private final VirtioNetConfig config;
    private final long offeredFeatures;
    private final NetPort port;
    private final Counters counters;
    private final int maxPairs;
    private final RxFilter filter = new RxFilter();
    private final TxEngine[] tx;
    private final RxEngine[] rx;
    private ControlQueueEngine control;
    private final NetQueueCounters[] queueCounters;
    private volatile DeviceContext.NeedsResetListener errors = (queue, violation, detail) -> { };
    private long negotiated;
    private int activePairs;
    private int receivePairs = -1;
    private int maxSegments = 1024;
    private DirtyPageLog dirtyLog = DirtyPageLog.NONE;
    private java.util.function.LongConsumer featuresListener = features -> { };

    /**
     * @param name            names the device in counters, e.g. {@code "net[/tmp/vu0.sock]"}
     * @param config          MAC, queue pairs and MTU
     * @param offeredFeatures what the device offers (a subset of {@link VirtioNetFeature#all()})
     * @param port            where frames go
     * @param counters        where the per-queue counters are published
     */
    public VirtioNetDevice(final String name, final VirtioNetConfig config, final long offeredFeatures,
                           final NetPort port, final Counters counters) {
        this.name = name;
        this.config = config;
        this.offeredFeatures = offeredFeatures;
        this.port = port;
        this.counters = counters;
        this.maxPairs = config.maxVirtqueuePairs();
        this.tx = new TxEngine[maxPairs];
        this.rx = new RxEngine[maxPairs];
        this.queueCounters = new NetQueueCounters[2 * maxPairs + 1];
        this.activePairs = maxPairs;
        filter.deviceMac(config.mac());
    }

    /** @return the device's configuration */
    public VirtioNetConfig configuration() {
        return config;
    }

    /** @return the port frames go to */
    public NetPort port() {
        return port;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public long offeredFeatures() {
        return offeredFeatures;
    }

    @Override
    public FeatureRules featureRules() {
        return VirtioNetFeature.RULES;
    }

    @Override
    public int maxQueues() {
        return 2 * maxPairs + (VirtioFeature.has(offeredFeatures, VirtioNetFeature.CTRL_VQ) ? 1 : 0);
    }

    @Override
    public int maxQueueSize(final int queueIndex) {
        return MAX_QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return VirtioNetConfig.BYTES;
    }

    @Override
    public void readConfig(final long offset, final MemorySegment destination) {
        config.read(offset, destination);
    }

    @Override
    public void writeConfig(final long offset, final MemorySegment source) {
        // Every virtio-net configuration field is read-only for the driver (section 5.1.4).
    }

    /** Sets where broken queues are reported. */
    public void setNeedsResetListener(final DeviceContext.NeedsResetListener listener) {
        this.errors = listener;
    }

    /** Limits the descriptors one chain may have (vhost-user front-ends may ask for less). */
    public void setMaxSegments(final int segments) {
        this.maxSegments = segments;
    }

    /** Sets the features the driver and device agreed on; call before starting queues. */
    public void setNegotiatedFeatures(final long features) {
        this.negotiated = features;
        featuresListener.accept(features);
    }

    /** Hears of every change of the negotiated features (0 when the driver goes away), on the caller's thread. */
    public void setFeaturesListener(final java.util.function.LongConsumer listener) {
        this.featuresListener = listener;
    }

    /** @return the features in force */
    public long negotiatedFeatures() {
        return negotiated;
    }

    @Override
    public void activate(final DeviceContext context) {
        QueueServingDevice.super.activate(context);
        if (VirtioFeature.has(negotiated, VirtioNetFeature.MQ)) {
            activePairs = 1;
        }
        tellPortReceivePairs();
    }

    /**
     * Starts serving queue {@code index} (data-plane thread).
     *
     * @param interrupt the queue's used-buffer interrupt (a call eventfd)
     */
    public void startQueue(final int index, final DeviceQueue queue, final Interrupt interrupt) {
        stopQueue(index);
        final NetOffloads offloads = new NetOffloads(negotiated);
        final String kind = index == 2 * maxPairs ? "ctrl" : (index % 2 == 0 ? "rx" : "tx");
        NetQueueCounters queueCounter = queueCounters[index];
        if (queueCounter == null) {
            queueCounter = new NetQueueCounters(counters, name + " q" + index + " " + kind);
            queueCounters[index] = queueCounter;
        }
        final QueueEngine.BrokenListener broken = this::queueBroken;
        if (index == 2 * maxPairs) {
            control = new ControlQueueEngine(index, queue, interrupt, queueCounter, broken, filter, config, this);
        } else if (index % 2 == 0) {
            rx[index / 2] = new RxEngine(index, queue, interrupt, queueCounter, broken, port, offloads, filter, 64);
        } else {
            queue.setCollapseInOrder(true);
            tx[index / 2] = new TxEngine(index, queue, interrupt, queueCounter, broken, port, offloads, maxSegments);
        }
        engine(index).dirtyLog = dirtyLog;
        tellPortReceivePairs();
    }

    /** Tells the port how many leading queue pairs receive now (started, enabled and active), when that changes. */
    private void tellPortReceivePairs() {
        int pairs = 0;
        while (pairs < Math.min(activePairs, maxPairs) && rx[pairs] != null && rx[pairs].enabled) {
            pairs++;
        }
        if (pairs != receivePairs) {
            receivePairs = pairs;
            port.receivePairs(pairs);
        }
    }

    /**
     * Logs every guest buffer the device writes from now on (data-plane thread); the queues' own ring writes
     * are logged through {@link DeviceQueue#setDirtyLog}.
     */
    public void setDirtyLog(final DirtyPageLog log) {
        this.dirtyLog = log;
        for (int i = 0; i <= 2 * maxPairs; i++) {
            final QueueEngine engine = engine(i);
            if (engine != null) {
                engine.dirtyLog = log;
            }
        }
    }

    private QueueEngine engine(final int index) {
        if (index == 2 * maxPairs) {
            return control;
        }
        if (index < 0 || index > 2 * maxPairs) {
            return null;
        }
        return index % 2 == 0 ? rx[index / 2] : tx[index / 2];
    }

    /**
     * Stops serving queue {@code index} (data-plane thread): nothing is touched in the ring afterwards.
     *
     * @return where the queue stood, or null if it was not started
     */
    public QueueState stopQueue(final int index) {
        final QueueEngine engine = engine(index);
        if (engine == null) {
            return null;
        }
        engine.queue.publishUsed();
        final QueueState state = engine.queue.state();
        if (index == 2 * maxPairs) {
            control = null;
        } else if (index % 2 == 0) {
            rx[index / 2] = null;
        } else {
            tx[index / 2] = null;
        }
        tellPortReceivePairs();
        return state;
    }

    /** Enables or disables a started queue (vhost-user SET_VRING_ENABLE); returns false if it is not started. */
    public boolean setQueueEnabled(final int index, final boolean enabled) {
        final QueueEngine engine = engine(index);
        if (engine == null) {
            return false;
        }
        engine.enabled = enabled;
        tellPortReceivePairs();
        return true;
    }

    /**
     * @return the counters of queue {@code index} (they live as long as the device, across front-end reconnects),
     *     or null if the queue never started
     */
    public NetQueueCounters queueCounters(final int index) {
        return index >= 0 && index < queueCounters.length ? queueCounters[index] : null;
    }

    @Override
    public void countKicks(final int index, final long count) {
        final NetQueueCounters counters = queueCounters(index);
        if (counters != null) {
            counters.kicked(count);
        }
    }

    /** @return the device queue serving {@code index}, or null */
    public DeviceQueue queue(final int index) {
        final QueueEngine engine = engine(index);
        return engine == null ? null : engine.queue;
    }

    private void queueBroken(final int index, final RingViolation violation) {
        errors.needsReset(index, violation, name + ": guest driver broke queue " + index + ": " + violation.description());
    }

    @Override
    public void reset() {
        for (int i = 0; i <= 2 * maxPairs; i++) {
            stopQueue(i);
        }
        filter.promiscuous(true);
        filter.allMulticast(false);
        activePairs = maxPairs;
        tellPortReceivePairs();
        negotiated = 0;
        featuresListener.accept(0);
    }

    @Override
    public int poll() {
        int work = 0;
        for (int pair = 0; pair < maxPairs; pair++) {
            final TxEngine transmit = tx[pair];
            if (transmit != null) {
                transmit.suppressKicks();
                work += transmit.process();
            }
            final RxEngine receive = rx[pair];
            if (receive != null && pair < activePairs) {
                receive.suppressKicks();
                work += receive.process();
            }
        }
        final ControlQueueEngine controlEngine = control;
        if (controlEngine != null) {
            controlEngine.suppressKicks();
            work += controlEngine.process();
        }
        return work;
    }

    @Override
    public boolean readyToPark() {
        boolean idle = true;
        for (int pair = 0; pair < maxPairs; pair++) {
            final TxEngine transmit = tx[pair];
            if (transmit != null && transmit.armKicks()) {
                idle = false;
            }
            final RxEngine receive = rx[pair];
            if (receive != null && pair < activePairs && receive.waitingForBuffers() && receive.armKicksForBuffers()) {
                idle = false;
            }
        }
        final ControlQueueEngine controlEngine = control;
        if (controlEngine != null && controlEngine.armKicks()) {
            idle = false;
        }
        return idle;
    }

    @Override
    public boolean setActiveQueuePairs(final int pairs) {
        if (!VirtioFeature.has(negotiated, VirtioNetFeature.MQ) || pairs < 1 || pairs > maxPairs) {
            return false;
        }
        activePairs = pairs;
        tellPortReceivePairs();
        return true;
    }

    /** @return queue pairs the driver set active (all started pairs unless it used VQ_PAIRS_SET) */
    public int activeQueuePairs() {
        return activePairs;
    }

    @Override
    public void announceAcknowledged() {
        config.status(config.status() & ~VirtioNetConfig.STATUS_ANNOUNCE);
    }

    /** @return the receive filter (for tests and the control plane) */
    public RxFilter receiveFilter() {
        return filter;
    }

    @Override
    public String toString() {
        return "VirtioNetDevice[" + name + ", port=" + port.name() + "]";
    }
}

package io.vioplane.virtioblk.engine;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.virtioblk.BlkRefusal;
import io.vioplane.virtioblk.BlkRequestType;
import io.vioplane.virtioblk.VirtioBlkConfig;
import io.vioplane.virtioblk.VirtioBlkFeature;
import io.vioplane.virtioblk.backend.BlockBackend;
import io.vioplane.virtioblk.backend.BlockQueue;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.QueueState;
import io.vioplane.vring.RingViolation;
import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.device.DeviceContext;
import io.vioplane.vring.device.FeatureRules;
import io.vioplane.vring.device.QueueServingDevice;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * A virtio block device (VIRTIO 1.x section 5.2, device id 2), independent of its transport: every queue is a
 * request queue served by a {@link BlkQueueEngine} over a {@link BlockBackend}.
 *
 * <p>Queues start and stop one at a time ({@link #startQueue}, {@link #stopQueue}: vhost-user) or all at once
 * ({@link #activate}). Stopping a queue waits for its outstanding backend operations and uses their chains, so
 * the ring state handed back covers every request taken. Everything but the lifecycle methods runs on the
 * data-plane thread; each queue's completion eventfd is handed to a {@link CompletionWatch} so the data plane
 * wakes when I/O finishes.
 */
public final class VirtioBlkDevice implements QueueServingDevice, DataPlane.Pollable {
    /** The virtio device id of a block device. */
    public static final int DEVICE_ID = 2;
    /** The largest queue size offered. */
    public static final int MAX_QUEUE_SIZE = 1024;

    /** Where a queue's completion eventfd is watched (the data plane), so completions wake a sleeping thread. */
    public interface CompletionWatch {
        /** Watches nothing: the owner polls. */
        CompletionWatch NONE = new CompletionWatch() {
            @Override
            public void watch(final EventFd signal, final int queueIndex) {
            }

            @Override
            public void unwatch(final EventFd signal) {
            }
        };

        /** Starts waking the poller when {@code signal} is signalled. */
        void watch(EventFd signal, int queueIndex);

        /** Stops watching {@code signal} (before it is closed). */
        void unwatch(EventFd signal);
    }

    private final String name;
    private final VirtioBlkConfig config;
    private final long offeredFeatures;
    private final BlockBackend backend;
    private final Counters counters;
    private final CompletionWatch watch;
    private final MemorySegment serial = Arena.ofAuto().allocate(BlkRequestType.ID_BYTES);
    private final BlkQueueEngine[] engines;
    private final BlkQueueCounters[] queueCounters;
    private volatile java.util.function.LongConsumer capacityListener = sectors -> { };
    private volatile DeviceContext.NeedsResetListener errors = (queue, violation, detail) -> { };
    private final ErrorLog log;
    private volatile long negotiated;
    private DirtyPageLog dirtyLog = DirtyPageLog.NONE;

    /**
     * @param name            names the device in counters, e.g. {@code "blk[/tmp/vb.sock]"}
     * @param config          capacity, limits, queues, cache mode
     * @param offeredFeatures what the device offers ({@link VirtioBlkFeature#offered})
     * @param backend         where the sectors are
     * @param serialId        the GET_ID answer (at most 20 bytes of ASCII; shorter is NUL-padded)
     * @param counters        where the per-queue counters are published
     * @param watch           where completion eventfds are watched
     * @param log             where refusals and backend failures are reported (each kind printed once, all counted)
     */
    public VirtioBlkDevice(final String name, final VirtioBlkConfig config, final long offeredFeatures,
                           final BlockBackend backend, final String serialId, final Counters counters,
                           final CompletionWatch watch, final ErrorLog log) {
        final byte[] id = serialId.getBytes(StandardCharsets.US_ASCII);
        if (id.length > BlkRequestType.ID_BYTES) {
            throw new IllegalArgumentException("serial longer than 20 bytes: " + serialId);
        }
        this.name = name;
        this.config = config;
        this.offeredFeatures = offeredFeatures;
        this.backend = backend;
        this.counters = counters;
        this.watch = watch;
        this.log = log;
        MemorySegment.copy(id, 0, serial, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, id.length);
        this.engines = new BlkQueueEngine[config.numQueues()];
        this.queueCounters = new BlkQueueCounters[config.numQueues()];
    }

    /** @return the configuration */
    public VirtioBlkConfig configuration() {
        return config;
    }

    /** @return the backend */
    public BlockBackend backend() {
        return backend;
    }

    MemorySegment serial() {
        return serial;
    }

    boolean readOnly() {
        return backend.readOnly();
    }

    /** @return the line reporting a refusal on queue {@code queueIndex} (built once per queue and reason) */
    String refusalLine(final int queueIndex, final BlkRefusal reason) {
        return name + " q" + queueIndex + ": refused a request: " + reason.description();
    }

    void ioFailed(final int queueIndex, final int type, final int result) {
        log.failure(name + " q" + queueIndex + ": " + BlkRequestType.name(type) + " failed: "
                + (result < 0 ? Errno.describe(-result) : "short transfer (" + result + " bytes)"));
    }

    ErrorLog log() {
        return log;
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
        return VirtioBlkFeature.RULES;
    }

    @Override
    public int maxQueues() {
        return config.numQueues();
    }

    @Override
    public int maxQueueSize(final int queueIndex) {
        return MAX_QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return VirtioBlkConfig.BYTES;
    }

    @Override
    public void readConfig(final long offset, final MemorySegment destination) {
        config.read(offset, destination);
    }

    @Override
    public void writeConfig(final long offset, final MemorySegment source) {
        writeConfiguration(offset, source);
    }

    /**
     * Applies a configuration write.
     *
     * @return false if nothing writable was written
     */
    public boolean writeConfiguration(final long offset, final MemorySegment source) {
        return config.write(offset, source, VirtioFeature.has(negotiated, VirtioBlkFeature.CONFIG_WCE));
    }

    /**
     * Reads the backend's size again (any thread; the data plane checks requests against the new capacity from
     * its next request on).
     *
     * @return true if the capacity changed (the transport should raise a configuration interrupt)
     */
    public synchronized boolean refreshCapacity() {
        final long sectors = backend.sizeBytes() >>> BlkRequestType.SECTOR_SHIFT;
        if (sectors == config.capacitySectors()) {
            return false;
        }
        config.capacitySectors(sectors);
        capacityListener.accept(sectors);
        return true;
    }

    /**
     * Sets who hears of a capacity change {@link #refreshCapacity} found, whoever called it (the transport tells
     * the driver). The listener runs on the caller's thread with the device locked: it must not block.
     */
    public void setCapacityListener(final java.util.function.LongConsumer listener) {
        this.capacityListener = listener;
    }

    /** Sets where broken queues are reported. */
    public void setNeedsResetListener(final DeviceContext.NeedsResetListener listener) {
        this.errors = listener;
    }

    /** Sets the features the driver and device agreed on; call before starting queues. */
    public void setNegotiatedFeatures(final long features) {
        this.negotiated = features;
    }

    /** @return the features in force */
    public long negotiatedFeatures() {
        return negotiated;
    }

    /** Starts serving queue {@code index} (data-plane thread). */
    public void startQueue(final int index, final DeviceQueue queue, final Interrupt interrupt) {
        startQueue(index, queue, interrupt, InflightTracking.NONE);
    }

    /**
     * Starts serving queue {@code index} (data-plane thread), first resubmitting what {@code inflight} says a
     * previous instance left unfinished, and tracking every chain there from now on.
     */
    public void startQueue(final int index, final DeviceQueue queue, final Interrupt interrupt,
                           final InflightTracking inflight) {
        if (index < 0 || index >= engines.length) {
            throw new IllegalArgumentException("queue " + index + " of " + engines.length);
        }
        stopQueue(index);
        BlkQueueCounters queueCounter = queueCounters[index];
        if (queueCounter == null) {
            queueCounter = new BlkQueueCounters(counters, name + " q" + index);
            queueCounters[index] = queueCounter;
        }
        final int slots = Math.min(queue.size(), BlkQueueEngine.MAX_SLOTS);
        final BlockQueue io = backend.openQueue(index, Math.min(4096, Integer.highestOneBit(slots) * 4));
        final BlkQueueEngine engine = new BlkQueueEngine(index, queue, interrupt, queueCounter, io, this,
                this::queueBroken, inflight);
        engine.dirtyLog = dirtyLog;
        engines[index] = engine;
        watch.watch(io.completionSignal(), index);
    }

    /**
     * Stops serving queue {@code index} (data-plane thread) once its outstanding requests completed and were used.
     *
     * @return where the queue stood, or null if it was not started
     */
    public QueueState stopQueue(final int index) {
        if (index < 0 || index >= engines.length || engines[index] == null) {
            return null;
        }
        final BlkQueueEngine engine = engines[index];
        engine.drain();
        engines[index] = null;
        watch.unwatch(engine.io.completionSignal());
        engine.close();
        return engine.queue.state();
    }

    /** Enables or disables a started queue (vhost-user SET_VRING_ENABLE); returns false if it is not started. */
    public boolean setQueueEnabled(final int index, final boolean enabled) {
        if (index < 0 || index >= engines.length || engines[index] == null) {
            return false;
        }
        engines[index].enabled = enabled;
        return true;
    }

    /** Logs every guest buffer the device writes from now on (data-plane thread). */
    public void setDirtyLog(final DirtyPageLog log) {
        this.dirtyLog = log;
        for (BlkQueueEngine engine : engines) {
            if (engine != null) {
                engine.dirtyLog = log;
            }
        }
    }

    @Override
    public void countKicks(final int index, final long count) {
        final BlkQueueCounters counters = queueCounters(index);
        if (counters != null) {
            counters.kicked(count);
        }
    }

    /** @return the counters of queue {@code index}, or null if it never started */
    public BlkQueueCounters queueCounters(final int index) {
        return index >= 0 && index < queueCounters.length ? queueCounters[index] : null;
    }

    /** Visits the counters of every queue that ever started. */
    public void forEachQueueCounters(final Consumer<BlkQueueCounters> visitor) {
        for (BlkQueueCounters queueCounter : queueCounters) {
            if (queueCounter != null) {
                visitor.accept(queueCounter);
            }
        }
    }

    /** @return requests queue {@code index} holds in flight, or 0 */
    public int inFlight(final int index) {
        final BlkQueueEngine engine = index >= 0 && index < engines.length ? engines[index] : null;
        return engine == null ? 0 : engine.inFlight();
    }

    private void queueBroken(final int index, final RingViolation violation) {
        errors.needsReset(index, violation, name + ": guest driver broke queue " + index + ": "
                + violation.description());
    }

    @Override
    public void reset() {
        for (int i = 0; i < engines.length; i++) {
            stopQueue(i);
        }
        negotiated = 0;
    }

    @Override
    public int poll() {
        int work = 0;
        for (BlkQueueEngine engine : engines) {
            if (engine != null) {
                engine.suppressKicks();
                work += engine.process();
            }
        }
        return work;
    }

    /**
     * True while a queue has backend operations in flight: their completions need this thread's CPU (io_uring runs
     * them as task work of the submitting thread, or on kernel workers that inherit its CPU), so the data plane
     * parks at once and is woken by the completion eventfd instead of spinning in their way.
     */
    @Override
    public boolean spinningDelaysWork() {
        for (BlkQueueEngine engine : engines) {
            if (engine != null && engine.io.outstanding() > 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean readyToPark() {
        boolean idle = true;
        for (BlkQueueEngine engine : engines) {
            if (engine != null && engine.armKicks()) {
                idle = false;
            }
        }
        return idle;
    }

    @Override
    public String toString() {
        return "VirtioBlkDevice[" + name + ", " + backend.name() + "]";
    }
}

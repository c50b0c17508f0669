package io.vioplane.vhostuser.backend;

import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.MemoryAccessException;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.vhostuser.transport.BackendChannel;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.ReplyWriter;
import io.vioplane.vhostuser.protocol.VhostUserException;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.transport.VhostUserHandler;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.QueueConfigException;
import io.vioplane.vring.QueueState;
import io.vioplane.vring.RingViolation;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.device.DeviceStatus;
import io.vioplane.vring.packed.PackedRing;
import io.vioplane.vring.split.SplitRing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The device-agnostic vhost-user back-end of one front-end connection (QEMU docs/interop/vhost-user.rst):
 * feature and protocol-feature negotiation, the memory table, the vrings and their ring states, the dirty log,
 * device status and configuration space; the device type behind it is a {@link VhostUserDevice}.
 *
 * <p>Threads: requests arrive on the control-plane (event-loop) thread. A running ring is touched only by the
 * data-plane thread: starting, stopping (GET_VRING_BASE replies only after the ring stopped there), enabling,
 * re-targeting and memory-table changes are commands run on the {@link DataPlane}. A new memory table is
 * published to the running rings first; the old mapping is unmapped only after the data plane has moved on.
 *
 * <p>Ring start: a ring starts when it has a size, addresses and a kick (an eventfd, or NOFD meaning "poll"),
 * which is what SET_VRING_KICK completes. A split ring resumes at the SET_VRING_BASE index; if the used index
 * in guest memory disagrees (buffers taken but not returned before a reconnect), both resume at the used index so
 * that those buffers are processed again rather than lost (DPDK does the same). A packed base whose used half is
 * zero (DPDK's virtio-user sends only the available half) resumes used at the available position.
 *
 * <p>With VIRTIO_F_ACCESS_PLATFORM (which needs BACKEND_REQ and REPLY_ACK: QEMU asks for both), ring and buffer
 * addresses are iovas, translated through the device IOTLB the front-end feeds with IOTLB_MSG ({@link VhostIotlb}).
 * A ring whose areas are not translated yet waits, not started, and is started again after each UPDATE; a buffer
 * without a translation makes its ring wait for the miss's answer while the others go on.
 *
 * <p>Refusals: anything the front-end asks that cannot be done throws {@link VhostUserException}: a failure
 * reply with REPLY_ACK, a closed connection otherwise; every refusal is logged with who was at fault.
 */
public final class VhostUserBackend implements VhostUserHandler {
    /** Protocol features every vhost-user device of vioplane supports. */
    public static final long BACKEND_PROTOCOL_FEATURES = VirtioFeature.mask(ProtocolFeature.MQ, ProtocolFeature.LOG_SHMFD,
            ProtocolFeature.REPLY_ACK, ProtocolFeature.BACKEND_REQ, ProtocolFeature.CONFIG,
            ProtocolFeature.CONFIGURE_MEM_SLOTS, ProtocolFeature.STATUS, ProtocolFeature.RESET_DEVICE);

    private final VhostUserDevice device;
    private final DataPlane dataPlane;
    private final ErrorLog log;
    private final String name;
    private final Vring[] vrings;
    private final DeviceQueue[] queues;
    private final FrontEndMemory frontEndMemory = new FrontEndMemory();
    private final InflightArea inflight;
    private GuestMemory guestMemory;
    private DirtyLogArea dirtyLog;
    private EventFd logEventFd;
    private volatile BackendChannel backendChannel;
    private CounterSet<DeviceIotlbCounter> iotlbCounters = CounterSet.unpublished(DeviceIotlbCounter.class);
    private VhostIotlb iotlb;
    private boolean owned;
    private boolean featuresSet;
    private long features;
    private volatile long protocolFeatures;
    private volatile int status;
    private boolean warnedUnsealed;
    private boolean registered;
    private long withheldProtocolFeatures;
    private MessageRecorder recorder;
    private int recordedConnection;
    private IotlbListener iotlbListener;

    /**
     * @param device    the device type served
     * @param dataPlane the thread that runs its queues
     * @param log       where lifecycle lines and broken rings are logged (refusals are thrown, and the transport
     *                  logs them)
     */
    public VhostUserBackend(final VhostUserDevice device, final DataPlane dataPlane, final ErrorLog log) {
        this.device = device;
        this.dataPlane = dataPlane;
        this.log = log;
        this.name = device.name();
        this.vrings = new Vring[device.maxQueues()];
        this.queues = new DeviceQueue[device.maxQueues()];
        this.inflight = new InflightArea(device.maxQueues());
        for (int i = 0; i < vrings.length; i++) {
            vrings[i] = new Vring(i);
        }
        device.setNeedsResetListener(this::queueBroken);
    }

    private void log(final String message) {
        log.info(name + ": " + message);
    }

    private static VhostUserException refuse(final String why) {
        return new VhostUserException(why, false);
    }

    /** @return the protocol features offered */
    public long offeredProtocolFeatures() {
        return (BACKEND_PROTOCOL_FEATURES | device.deviceProtocolFeatures()) & ~withheldProtocolFeatures;
    }

    /** @return the virtio features offered, with vhost-user's protocol-features bit */
    public long offeredFeatures() {
        long offered = device.features() | VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES);
        final long iotlbNeeds = VirtioFeature.mask(ProtocolFeature.BACKEND_REQ, ProtocolFeature.REPLY_ACK);
        if ((offeredProtocolFeatures() & iotlbNeeds) != iotlbNeeds) {
            offered &= ~VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM);
        }
        return offered;
    }

    private boolean iommu() {
        return VirtioFeature.has(features, VirtioFeature.ACCESS_PLATFORM);
    }

    /** @return the DMA space the rings use: the IOTLB's with ACCESS_PLATFORM, guest memory otherwise */
    private DmaSpace ringSpace() {
        return iommu() ? iotlb.space() : guestMemory;
    }

    @Override
    public void connected() {
        log("front-end connected");
        if (recorder != null) {
            recordedConnection = recorder.connected();
        }
        if (!registered) {
            iotlb = new VhostIotlb(iotlbCounters);
            iotlb.listener(iotlbListener);
            dataPlane.add(device.pollable());
            dataPlane.add(iotlb.space());
            registered = true;
        }
    }

    /**
     * Withholds protocol features from the offer (the daemon's {@code --disable-protocol-feature}).
     *
     * @return this back-end
     */
    public VhostUserBackend withholdProtocolFeatures(final long mask) {
        this.withheldProtocolFeatures = mask;
        return this;
    }

    /**
     * Counts the device IOTLB's work and refusals there (the daemon publishes them per socket); set before the
     * front-end connects.
     *
     * @return this back-end
     */
    public VhostUserBackend iotlbCounters(final CounterSet<DeviceIotlbCounter> counters) {
        this.iotlbCounters = counters;
        return this;
    }

    /**
     * Tells {@code listener} of every IOTLB UPDATE and INVALIDATE applied, on the data-plane thread (tests compare
     * them with the guest's IOMMU tables); set before the front-end connects.
     *
     * @return this back-end
     */
    public VhostUserBackend iotlbListener(final IotlbListener listener) {
        this.iotlbListener = listener;
        return this;
    }

    /**
     * Records every request and its outcome (the daemon's {@code --record-protocol}).
     *
     * @return this back-end
     */
    public VhostUserBackend recordTo(final MessageRecorder messageRecorder) {
        this.recorder = messageRecorder;
        return this;
    }

    @Override
    public void handle(final VhostUserMessage request, final ReplyWriter reply) {
        final MessageRecorder recording = recorder;
        if (recording == null) {
            dispatch(request, reply);
            return;
        }
        final int fdCount = request.fdCount();
        try {
            dispatch(request, reply);
            recording.record(recordedConnection, request, fdCount, null);
        } catch (RuntimeException e) {
            recording.record(recordedConnection, request, fdCount, String.valueOf(e.getMessage()));
            throw e;
        }
    }

    private void dispatch(final VhostUserMessage request, final ReplyWriter reply) {
        switch (request.request()) {
            case VhostUserRequest.GET_FEATURES -> reply.u64(offeredFeatures());
            case VhostUserRequest.SET_FEATURES -> setFeatures(request.u64());
            case VhostUserRequest.SET_OWNER -> owned = true;
            case VhostUserRequest.RESET_OWNER -> stopAllRings();
            case VhostUserRequest.GET_PROTOCOL_FEATURES -> reply.u64(offeredProtocolFeatures());
            case VhostUserRequest.SET_PROTOCOL_FEATURES -> setProtocolFeatures(request.u64());
            case VhostUserRequest.GET_QUEUE_NUM -> reply.u64(device.queueNumReply());
            case VhostUserRequest.SET_MEM_TABLE -> setMemoryTable(request);
            case VhostUserRequest.GET_MAX_MEM_SLOTS -> reply.u64(FrontEndMemory.MAX_SLOTS);
            case VhostUserRequest.ADD_MEM_REG -> addMemoryRegion(request);
            case VhostUserRequest.REM_MEM_REG -> removeMemoryRegion(request);
            case VhostUserRequest.SET_LOG_BASE -> setLogBase(request, reply);
            case VhostUserRequest.SET_LOG_FD -> setLogFd(request);
            case VhostUserRequest.SET_VRING_NUM -> vring(request.vringIndex()).setSize(request.vringNum());
            case VhostUserRequest.SET_VRING_ADDR -> setVringAddr(request);
            case VhostUserRequest.SET_VRING_BASE -> vring(request.vringIndex()).setBase(request.vringNum());
            case VhostUserRequest.GET_VRING_BASE -> getVringBase(request.vringIndex(), reply);
            case VhostUserRequest.SET_VRING_KICK -> setVringKick(request);
            case VhostUserRequest.SET_VRING_CALL -> setVringCall(request);
            case VhostUserRequest.SET_VRING_ERR -> setVringErr(request);
            case VhostUserRequest.SET_VRING_ENABLE -> setVringEnable(request.vringIndex(), request.vringNum());
            case VhostUserRequest.SEND_RARP -> sendRarp(request);
            case VhostUserRequest.NET_SET_MTU -> setMtu(request.u64());
            case VhostUserRequest.SET_BACKEND_REQ_FD -> setBackendChannel(request);
            case VhostUserRequest.SET_STATUS -> setStatus(request.u64());
            case VhostUserRequest.GET_STATUS -> reply.u64(status);
            case VhostUserRequest.RESET_DEVICE -> resetDevice();
            case VhostUserRequest.GET_CONFIG -> getConfig(request, reply);
            case VhostUserRequest.SET_CONFIG -> setConfig(request);
            case VhostUserRequest.GET_INFLIGHT_FD -> getInflight(request, reply);
            case VhostUserRequest.SET_INFLIGHT_FD -> setInflight(request);
            case VhostUserRequest.IOTLB_MSG -> iotlbMessage(request, reply);
            default -> throw refuse("request " + VhostUserRequest.name(request.request()) + " is not supported");
        }
    }

    private Vring vring(final int index) {
        if (index < 0 || index >= vrings.length) {
            throw refuse("front-end named vring " + index + ", the device has " + vrings.length);
        }
        return vrings[index];
    }

    private void setFeatures(final long requested) {
        final long unknown = requested & ~offeredFeatures();
        if (unknown != 0) {
            throw refuse("front-end set features the back-end did not offer: 0x" + Long.toHexString(unknown));
        }
        final boolean wasLogging = VirtioFeature.has(features, VirtioFeature.LOG_ALL);
        final long iotlbNeeds = VirtioFeature.mask(ProtocolFeature.BACKEND_REQ, ProtocolFeature.REPLY_ACK);
        if (VirtioFeature.has(requested, VirtioFeature.ACCESS_PLATFORM) && (protocolFeatures & iotlbNeeds) != iotlbNeeds) {
            throw refuse("front-end set VIRTIO_F_ACCESS_PLATFORM without the BACKEND_REQ and REPLY_ACK protocol"
                    + " features the device IOTLB needs (misses go on the back-end channel)");
        }
        features = requested;
        featuresSet = true;
        final long virtioFeatures = requested & ~VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES);
        final boolean logging = VirtioFeature.has(requested, VirtioFeature.LOG_ALL);
        dataPlane.run(() -> {
            device.setNegotiatedFeatures(virtioFeatures);
            if (wasLogging && !logging) {
                device.setDirtyLog(DirtyPageLog.NONE);
                for (DeviceQueue queue : queues) {
                    if (queue != null) {
                        queue.setDirtyLog(DirtyPageLog.NONE, 0);
                    }
                }
            } else if (logging) {
                applyDirtyLog();
            }
        });
        if (!VirtioFeature.has(requested, ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES)) {
            for (Vring vring : vrings) {
                vring.enabled = true;
            }
        }
    }

    /**
     * Data-plane thread: points the device and every running queue at the current dirty log; with ACCESS_PLATFORM
     * the addresses they log are iovas, translated to the gpas the log is indexed by ({@link IotlbDirtyLog}).
     */
    private void applyDirtyLog() {
        final DirtyPageLog log = iommu() && dirtyLog != null ? new IotlbDirtyLog(iotlb.table(), dirtyLog) : dirtyLog;
        final DirtyPageLog target = VirtioFeature.has(features, VirtioFeature.LOG_ALL) && log != null
                ? log : DirtyPageLog.NONE;
        device.setDirtyLog(target);
        for (int i = 0; i < queues.length; i++) {
            if (queues[i] != null) {
                queues[i].setDirtyLog(vrings[i].logUsed() ? target : DirtyPageLog.NONE, vrings[i].logGuestAddr);
            }
        }
    }

    private void setProtocolFeatures(final long requested) {
        final long unknown = requested & ~offeredProtocolFeatures();
        if (unknown != 0) {
            throw refuse("front-end set protocol features the back-end did not offer: 0x" + Long.toHexString(unknown));
        }
        protocolFeatures = requested;
    }

    private long[][] regionSpecs(final VhostUserMessage request) {
        final int count = request.regionCount();
        final long[][] specs = new long[count][];
        for (int i = 0; i < count; i++) {
            specs[i] = new long[] {request.regionGpa(i), request.regionSize(i), request.regionUserAddr(i),
                    request.regionMmapOffset(i)};
        }
        return specs;
    }

    private void setMemoryTable(final VhostUserMessage request) {
        final long[][] specs = regionSpecs(request);
        final int[] fds = new int[request.fdCount()];
        for (int i = 0; i < fds.length; i++) {
            fds[i] = request.takeFd(i);
        }
        final GuestMemory fresh;
        try {
            fresh = frontEndMemory.replace(specs, fds);
        } catch (RuntimeException e) {
            throw refuse("memory table refused: " + e.getMessage());
        }
        publishMemory(fresh);
        log("memory table: " + specs.length + " region(s), " + fresh.totalBytes() / (1 << 20) + " MiB"
                + (frontEndMemory.allSealed() ? "" : unsealedNote()));
    }

    private String unsealedNote() {
        if (warnedUnsealed) {
            return "";
        }
        warnedUnsealed = true;
        return " (front-end memory cannot be sealed against shrinking: a front-end that truncates it makes the"
                + " data plane fault)";
    }

    private void addMemoryRegion(final VhostUserMessage request) {
        final boolean repeated;
        try {
            repeated = frontEndMemory.addReference(request.singleRegionGpa(), request.singleRegionSize(),
                    request.singleRegionUserAddr(), request.singleRegionMmapOffset());
        } catch (RuntimeException e) {
            throw refuse("memory region refused: " + e.getMessage());
        }
        if (repeated) {
            FileIo.closeQuietly(request.takeFd(0));
            return;
        }
        final GuestMemory fresh;
        try {
            fresh = frontEndMemory.add(request.singleRegionGpa(), request.singleRegionSize(),
                    request.singleRegionUserAddr(), request.singleRegionMmapOffset(), request.takeFd(0));
        } catch (RuntimeException e) {
            throw refuse("memory region refused: " + e.getMessage());
        }
        publishMemory(fresh);
    }

    private void removeMemoryRegion(final VhostUserMessage request) {
        if (frontEndMemory.dropSharedReference(request.singleRegionGpa(), request.singleRegionSize(),
                request.singleRegionUserAddr())) {
            return;
        }
        final GuestMemory fresh;
        try {
            fresh = frontEndMemory.remove(request.singleRegionGpa(), request.singleRegionSize(),
                    request.singleRegionUserAddr());
        } catch (RuntimeException e) {
            throw refuse(e.getMessage());
        }
        publishMemory(fresh);
    }

    /** Points every running ring at {@code fresh}, then unmaps the previous memory. */
    private void publishMemory(final GuestMemory fresh) {
        final GuestMemory previous = guestMemory;
        guestMemory = fresh;
        final boolean translated = iommu();
        dataPlane.run(() -> {
            if (iotlb != null) {
                iotlb.memory(fresh);
            }
            for (int i = 0; i < queues.length; i++) {
                final DeviceQueue queue = queues[i];
                if (queue == null) {
                    continue;
                }
                try {
                    if (fresh == null) {
                        throw new QueueConfigException(QueueConfigException.Reason.OUT_OF_RANGE, "no memory left");
                    }
                    queue.remap(translated ? iotlb.space() : fresh);
                } catch (QueueConfigException e) {
                    log("vring " + i + " stopped: its rings are not in the new memory table (" + e.getMessage() + ")");
                    stopOnDataPlane(i);
                    vrings[i].started = false;
                }
            }
        });
        if (previous != null) {
            previous.close();
        }
    }

    private void setLogBase(final VhostUserMessage request, final ReplyWriter reply) {
        if (request.fdCount() != 1) {
            throw refuse("SET_LOG_BASE without a shared-memory descriptor");
        }
        final DirtyLogArea fresh;
        try {
            fresh = new DirtyLogArea(request.takeFd(0), request.logSize(), request.logOffset());
        } catch (RuntimeException e) {
            throw refuse("dirty log refused: " + e.getMessage());
        }
        final DirtyLogArea previous = dirtyLog;
        dirtyLog = fresh;
        dataPlane.run(this::applyDirtyLog);
        if (previous != null) {
            previous.close();
        }
        reply.empty();
        log("dirty log: " + request.logSize() + " bytes");
    }

    private void setLogFd(final VhostUserMessage request) {
        if (logEventFd != null) {
            logEventFd.close();
            logEventFd = null;
        }
        if (request.fdCount() == 1) {
            logEventFd = EventFd.adopt(request.takeFd(0));
        }
    }

    private void setVringAddr(final VhostUserMessage request) {
        if (vring(request.addrIndex()).setAddresses(request)) {
            dataPlane.run(this::applyDirtyLog);
        }
    }

    private void getVringBase(final int index, final ReplyWriter reply) {
        final Vring vring = vring(index);
        final QueueState state = vring.started ? dataPlane.call(() -> stopOnDataPlane(index)) : null;
        reply.vringState(index, vring.stop(state, packed()));
    }

    /** Data-plane thread: stops queue {@code index}. */
    private QueueState stopOnDataPlane(final int index) {
        final Vring vring = vrings[index];
        if (vring.kick != null) {
            dataPlane.unwatch(vring.kick);
        }
        queues[index] = null;
        return device.stopQueue(index);
    }

    private boolean packed() {
        return VirtioFeature.has(features, VirtioFeature.RING_PACKED);
    }

    private void setVringKick(final VhostUserMessage request) {
        final Vring vring = vring(request.fdIndexVring());
        final EventFd fresh = request.fdIndexNoFd() ? null : EventFd.adopt(request.takeFd(0));
        final EventFd previous = vring.kick;
        if (vring.started) {
            final int index = vring.index;
            dataPlane.run(() -> {
                if (previous != null) {
                    dataPlane.unwatch(previous);
                }
                if (fresh != null) {
                    dataPlane.watch(fresh, count -> device.kicked(index, count));
                }
            });
        }
        if (previous != null) {
            previous.close();
        }
        vring.kick = fresh;
        vring.pollWithoutKick = fresh == null;
        if (!vring.started && vring.readyToStart()) {
            startRing(vring);
        }
    }

    private void startRing(final Vring vring) {
        if (guestMemory == null) {
            throw refuse("vring " + vring.index + " kicked before any memory table");
        }
        if (!featuresSet) {
            features = device.features() & ~VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES);
        }
        final boolean packed = packed();
        final int size = vring.size;
        final boolean translated = iommu();
        final long descBytes = (long) SplitRing.DESC_BYTES * size;
        final long driverBytes = packed ? PackedRing.EVENT_BYTES : SplitRing.availRingBytes(size);
        final long deviceBytes = packed ? PackedRing.EVENT_BYTES : SplitRing.usedRingBytes(size);
        final long descGpa = translated ? vring.descUserAddr : translate(vring, "descriptor area", vring.descUserAddr,
                descBytes);
        final long driverGpa = translated ? vring.availUserAddr : translate(vring, "driver area", vring.availUserAddr,
                driverBytes);
        final long deviceGpa = translated ? vring.usedUserAddr : translate(vring, "device area", vring.usedUserAddr,
                deviceBytes);
        final QueueConfig config = new QueueConfig(size, descGpa, driverGpa, deviceGpa,
                features & ~VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES));
        final DmaSpace space = ringSpace();
        final DeviceQueue queue;
        try {
            queue = dataPlane.call(() -> {
                if (translated && !ringAreasTranslated(config, descBytes, driverBytes, deviceBytes)) {
                    return null;
                }
                return VirtQueues.device(config, space);
            });
        } catch (QueueConfigException e) {
            signalError(vring);
            throw refuse("vring " + vring.index + " cannot start: " + e.getMessage());
        }
        if (queue == null) {
            if (!vring.waitingForTranslation) {
                log("vring " + vring.index + " waits for IOTLB translations of its ring areas (misses sent)");
            }
            vring.waitingForTranslation = true;
            return;
        }
        vring.waitingForTranslation = false;
        final QueueState resumed = queue.resume(vring.base);
        if (!packed && resumed.nextUsedIndex() != (vring.base & 0xFFFF)) {
            log("vring " + vring.index + ": base " + (vring.base & 0xFFFF) + " but the used index in guest memory is "
                    + resumed.nextUsedIndex() + "; resuming at " + resumed.nextUsedIndex()
                    + " so that unfinished buffers are processed again");
        }
        final SplitInflightRegion tracking = packed ? null : inflightRegion(vring, queue, resumed.nextUsedIndex(),
                space, driverGpa);
        final int index = vring.index;
        final EventFd kick = vring.kick;
        final boolean enabled = vring.enabled;
        dataPlane.run(() -> {
            queues[index] = queue;
            if (tracking != null) {
                device.startQueue(index, queue, vring.call, tracking);
            } else {
                device.startQueue(index, queue, vring.call);
            }
            device.setQueueEnabled(index, enabled);
            applyDirtyLog();
            if (kick != null) {
                dataPlane.watch(kick, count -> device.kicked(index, count));
            }
        });
        vring.started = true;
        log("vring " + index + " started: size " + size + (packed ? " packed" : " split") + ", "
                + (kick == null ? "polled" : "kick fd") + ", " + (enabled ? "enabled" : "disabled"));
    }

    /**
     * Data-plane thread: whether every ring area has its IOTLB translations; each missing one is asked for (all at
     * once, so that the front-end answers them together).
     */
    private boolean ringAreasTranslated(final QueueConfig config, final long descBytes, final long driverBytes,
                                        final long deviceBytes) {
        final DmaRange scratch = new DmaRange();
        final DmaSpace space = iotlb.space();
        boolean pending = false;
        final long[] addresses = {config.descGpa(), config.driverGpa(), config.deviceGpa()};
        final long[] lengths = {descBytes, driverBytes, deviceBytes};
        final AccessMode[] modes = {AccessMode.READ,
                AccessMode.READ, AccessMode.READ_WRITE};
        for (int i = 0; i < addresses.length; i++) {
            for (long done = 0; done < lengths[i]; ) {
                final long piece = space.resolvePiece(addresses[i] + done, lengths[i] - done, modes[i], scratch);
                if (piece == 0) {
                    if (space.refusal() != MemoryAccessException.Reason.TRANSLATION_PENDING) {
                        return true;
                    }
                    pending = true;
                    done = (addresses[i] + done | 0xFFF) + 1 - addresses[i];
                } else {
                    done += piece;
                }
            }
        }
        return !pending;
    }

    /** What an IOTLB_MSG did on the data plane: why it was refused (or null), and the rings it paused. */
    private record IotlbOutcome(String refusal, QueueState[] paused) {
    }

    private void iotlbMessage(final VhostUserMessage request, final ReplyWriter reply) {
        final int type = request.iotlbType();
        final long iova = request.iotlbIova();
        final long sizeBytes = request.iotlbSize();
        final long userAddr = request.iotlbUserAddr();
        final int permissions = request.iotlbPermissions();
        final long[] pieces = type == VhostIotlb.UPDATE ? frontEndMemory.gpaPieces(userAddr, sizeBytes) : null;
        final VhostIotlb target = iotlb;
        if (target == null) {
            throw refuse("IOTLB_MSG before the connection was set up");
        }
        final IotlbOutcome outcome = dataPlane.call(() -> {
            final String refusal = target.apply(type, iova, sizeBytes, userAddr, permissions, pieces);
            return new IotlbOutcome(refusal, refusal == null && type == VhostIotlb.INVALIDATE && iommu()
                    ? pauseRingsTranslatedIn(iova, sizeBytes) : null);
        });
        if (outcome.refusal() != null) {
            throw refuse(outcome.refusal());
        }
        reply.u64(0);
        if (outcome.paused() != null) {
            for (int i = 0; i < vrings.length; i++) {
                if (outcome.paused()[i] != null) {
                    vrings[i].pause(outcome.paused()[i], packed());
                    log("vring " + i + " paused: the front-end invalidated the translation of its ring areas");
                    startRing(vrings[i]);
                }
            }
        }
        if (type == VhostIotlb.UPDATE) {
            for (Vring vring : vrings) {
                if (vring.waitingForTranslation && !vring.started && vring.readyToStart()) {
                    startRing(vring);
                }
            }
        }
    }

    /**
     * Data-plane thread, as part of an INVALIDATE of {@code [iova, iova + sizeBytes)}: stops every running ring whose
     * own areas (descriptor, driver, device) lie in the range, before the front-end is acknowledged, so that no ring
     * touches the pages through translations the front-end took back (a ring's areas are resolved once, when it
     * starts). Each is started again by the caller, which asks for the translations and waits for them.
     *
     * @return per vring, where a paused ring stood; null if none was paused
     */
    private QueueState[] pauseRingsTranslatedIn(final long iova, final long sizeBytes) {
        final long last = iova + (sizeBytes - 1);
        QueueState[] paused = null;
        for (int i = 0; i < queues.length; i++) {
            final Vring vring = vrings[i];
            if (queues[i] == null || !vring.started || !ringAreasOverlap(vring, iova, last)) {
                continue;
            }
            if (paused == null) {
                paused = new QueueState[queues.length];
            }
            paused[i] = stopOnDataPlane(i);
            iotlbCounters.increment(DeviceIotlbCounter.RINGS_PAUSED);
        }
        return paused;
    }

    private boolean ringAreasOverlap(final Vring vring, final long first, final long last) {
        final boolean packed = packed();
        return overlaps(vring.descUserAddr, (long) SplitRing.DESC_BYTES * vring.size, first, last)
                || overlaps(vring.availUserAddr, packed ? PackedRing.EVENT_BYTES : SplitRing.availRingBytes(vring.size),
                        first, last)
                || overlaps(vring.usedUserAddr, packed ? PackedRing.EVENT_BYTES : SplitRing.usedRingBytes(vring.size),
                        first, last);
    }

    private static boolean overlaps(final long start, final long lengthBytes, final long first, final long last) {
        return Long.compareUnsigned(start, last) <= 0 && Long.compareUnsigned(first, start + (lengthBytes - 1)) <= 0;
    }

    private long translate(final Vring vring, final String area, final long userAddr, final long lengthBytes) {
        final long gpa = frontEndMemory.gpaOf(userAddr, lengthBytes);
        if (gpa < 0) {
            signalError(vring);
            throw refuse("vring " + vring.index + " " + area + " at uaddr 0x" + Long.toHexString(userAddr) + " (+"
                    + lengthBytes + ") is not inside the memory table");
        }
        return gpa;
    }

    /**
     * The ring's inflight region once recovered, with the queue resumed past what is still in flight; null when
     * nothing is tracked (then the base decides).
     */
    private SplitInflightRegion inflightRegion(final Vring vring, final DeviceQueue queue, final int used,
                                               final DmaSpace space, final long availRingGpa) {
        if (!VirtioFeature.has(protocolFeatures, ProtocolFeature.INFLIGHT_SHMFD) || !inflight.present()) {
            return null;
        }
        final SplitInflightRegion region = inflight.region(vring.index, vring.size);
        if (region == null) {
            log("vring " + vring.index + " of size " + vring.size + " is not covered by the inflight buffer ("
                    + inflight.describe() + "): not tracked");
            return null;
        }
        final int available = Short.toUnsignedInt(space.getShortAcquire(availRingGpa + SplitRing.AVAIL_IDX));
        final String reset = region.recover(used, available);
        if (reset != null) {
            log.failure(name + ": refused: inflight region of vring " + vring.index + " is corrupted (" + reset
                    + "); tracking restarts from the used index");
        }
        queue.restore(QueueState.split(used + region.resubmitCount(), used));
        if (region.resubmitCount() > 0) {
            log("vring " + vring.index + ": resubmitting " + region.resubmitCount()
                    + " request(s) the previous back-end left in flight");
        }
        return region;
    }

    private void getInflight(final VhostUserMessage request, final ReplyWriter reply) {
        refuseWhileRingsRun("GET_INFLIGHT_FD", -1);
        try {
            final InflightArea.Allocation area = inflight.allocate(request.inflightQueueCount(),
                    request.inflightQueueSize());
            reply.inflight(area.mmapSizeBytes(), 0, area.queueCount(), area.queueSize(), area.fd());
        } catch (IllegalArgumentException e) {
            throw refuse("GET_INFLIGHT_FD: " + e.getMessage());
        }
    }

    private void setInflight(final VhostUserMessage request) {
        final int fd = request.takeFd(0);
        refuseWhileRingsRun("SET_INFLIGHT_FD", fd);
        try {
            inflight.use(fd, request.inflightMmapSize(), request.inflightMmapOffset(), request.inflightQueueCount(),
                    request.inflightQueueSize());
            log("inflight buffer set: " + inflight.describe());
        } catch (IllegalArgumentException e) {
            throw refuse("SET_INFLIGHT_FD: " + e.getMessage());
        }
    }

    /** The inflight buffer is only replaced while no ring uses it; {@code fd} (if any) is closed on refusal. */
    private void refuseWhileRingsRun(final String what, final int fd) {
        for (Vring vring : vrings) {
            if (vring.started) {
                FileIo.closeQuietly(fd);
                throw refuse(what + " while vring " + vring.index + " runs");
            }
        }
    }

    private void setVringCall(final VhostUserMessage request) {
        final Vring vring = vring(request.fdIndexVring());
        final EventFd fresh = request.fdIndexNoFd() ? null : EventFd.adopt(request.takeFd(0));
        final EventFd previous = vring.call.retarget(fresh);
        if (previous != null) {
            dataPlane.run(() -> { });
            previous.close();
        }
    }

    private void setVringErr(final VhostUserMessage request) {
        final Vring vring = vring(request.fdIndexVring());
        if (vring.err != null) {
            vring.err.close();
        }
        vring.err = request.fdIndexNoFd() ? null : EventFd.adopt(request.takeFd(0));
    }

    private void setVringEnable(final int index, final int enable) {
        final Vring vring = vring(index);
        vring.setEnabled(enable);
        if (vring.started) {
            final boolean enabled = vring.enabled;
            dataPlane.run(() -> device.setQueueEnabled(index, enabled));
        }
    }

    private void sendRarp(final VhostUserMessage request) {
        final byte[] mac = request.payload().asSlice(0, 6).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        dataPlane.run(() -> device.announce(mac));
        log("announced " + macText(mac) + " (SEND_RARP)");
    }

    private static String macText(final byte[] mac) {
        final StringBuilder text = new StringBuilder();
        for (byte b : mac) {
            if (!text.isEmpty()) {
                text.append(':');
            }
            text.append(String.format("%02x", b & 0xFF));
        }
        return text.toString();
    }

    private void setMtu(final long mtu) {
        if (mtu < 68 || mtu > 65535 || !device.setMtu((int) mtu)) {
            throw refuse("MTU " + mtu + " refused");
        }
    }

    private void setBackendChannel(final VhostUserMessage request) {
        if (request.fdCount() != 1) {
            throw refuse("SET_BACKEND_REQ_FD without a socket");
        }
        final BackendChannel previous = backendChannel;
        backendChannel = new BackendChannel(request.takeFd(0));
        if (iotlb != null) {
            iotlb.channel(backendChannel);
        }
        if (previous != null) {
            previous.close();
        }
    }

    private void setStatus(final long value) {
        final int requested = (int) value & 0xFF;
        if (requested == 0) {
            status = 0;
            return;
        }
        status = requested | (status & DeviceStatus.DEVICE_NEEDS_RESET);
    }

    private void resetDevice() {
        stopAllRings();
        dataPlane.run(() -> {
            device.reset();
            if (iotlb != null) {
                iotlb.clear();
            }
        });
        for (Vring vring : vrings) {
            vring.reset();
        }
        features = 0;
        featuresSet = false;
        status = 0;
        log("device reset (RESET_DEVICE)");
    }

    private void getConfig(final VhostUserMessage request, final ReplyWriter reply) {
        final long offset = Integer.toUnsignedLong(request.configOffset());
        final long size = Integer.toUnsignedLong(request.configSize());
        if (offset + size > device.configSize() || size == 0) {
            throw refuse("GET_CONFIG [" + offset + ", +" + size + ") beyond the " + device.configSize()
                    + "-byte configuration space");
        }
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment data = arena.allocate(size);
            device.readConfig(offset, data);
            reply.config(request.configOffset(), request.configSize(), request.configFlags(), data);
        }
    }

    private void setConfig(final VhostUserMessage request) {
        final long offset = Integer.toUnsignedLong(request.configOffset());
        final long size = Integer.toUnsignedLong(request.configSize());
        if (offset + size > device.configSize()) {
            throw refuse("SET_CONFIG beyond the configuration space");
        }
        if (!device.writeConfig(offset, request.payload().asSlice(12, size), request.configFlags() == 1)) {
            throw refuse("SET_CONFIG of read-only configuration fields outside live migration");
        }
    }

    private void queueBroken(final int index, final RingViolation violation, final String detail) {
        log.failure(name + ": " + detail + " (the ring stops; the other rings go on)");
        status = status | DeviceStatus.DEVICE_NEEDS_RESET;
        if (index >= 0 && index < vrings.length) {
            signalError(vrings[index]);
        }
    }

    private void signalError(final Vring vring) {
        final EventFd err = vring.err;
        if (err != null) {
            err.add(1);
        }
    }

    private void stopAllRings() {
        for (Vring vring : vrings) {
            if (vring.started) {
                final int index = vring.index;
                dataPlane.call(() -> stopOnDataPlane(index));
                vring.started = false;
            }
        }
    }

    @Override
    public void disconnected() {
        stopAllRings();
        dataPlane.run(() -> {
            device.reset();
            if (iotlb != null) {
                iotlb.clear();
            }
        });
        for (Vring vring : vrings) {
            vring.closeEventFds();
        }
        if (guestMemory != null) {
            guestMemory.close();
            guestMemory = null;
        }
        frontEndMemory.close();
        inflight.close();
        if (dirtyLog != null) {
            dirtyLog.close();
            dirtyLog = null;
        }
        if (logEventFd != null) {
            logEventFd.close();
            logEventFd = null;
        }
        if (iotlb != null) {
            iotlb.channel(null);
        }
        if (backendChannel != null) {
            backendChannel.close();
            backendChannel = null;
        }
        if (registered) {
            dataPlane.remove(device.pollable());
            dataPlane.remove(iotlb.space());
            registered = false;
        }
        log("front-end disconnected; state released");
    }

    /** @return the ring state of vring {@code index}, for tests: "stopped", "started+enabled", ... */
    public String ringState(final int index) {
        return vring(index).toString();
    }

    /** @return the device IOTLB's counters */
    public CounterSet<DeviceIotlbCounter> iotlbCounters() {
        return iotlbCounters;
    }

    /** @return entries in the device IOTLB now (asks the data plane) */
    public int iotlbEntries() {
        final VhostIotlb target = iotlb;
        return target == null ? 0 : dataPlane.call(() -> target.table().size());
    }

    /**
     * Tells the front-end that the device's configuration space changed (QEMU docs/interop/vhost-user.rst,
     * VHOST_USER_BACKEND_CONFIG_CHANGE_MSG on the back-end channel; VIRTIO 1.x section 4.1.4.3 for what follows):
     * QEMU reads the space again with GET_CONFIG and, if the capacity changed, raises the guest's configuration
     * change interrupt. Sent without NEED_REPLY, so nothing waits for the front-end; call it from any thread but
     * the control plane's own, which must stay free to answer that GET_CONFIG.
     *
     * @param timeoutMs how long the send may wait for room in the socket
     * @return true if the message went out; false if the front-end negotiated no BACKEND_REQ and CONFIG, gave no
     * back-end channel, or the channel failed (logged)
     */
    public boolean notifyConfigChanged(final long timeoutMs) {
        final BackendChannel channel = backendChannel;
        final long needed = VirtioFeature.mask(ProtocolFeature.BACKEND_REQ, ProtocolFeature.CONFIG);
        if (channel == null || (protocolFeatures & needed) != needed) {
            return false;
        }
        try {
            channel.configChanged(false, timeoutMs);
            return true;
        } catch (RuntimeException e) {
            log.failure(name + ": could not send BACKEND_CONFIG_CHANGE_MSG: " + e.getMessage());
            return false;
        }
    }

    /** @return true once SET_OWNER was received */
    public boolean owned() {
        return owned;
    }
}

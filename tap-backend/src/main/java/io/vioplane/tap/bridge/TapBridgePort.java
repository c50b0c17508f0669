package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.SysException;
import io.vioplane.tap.device.TapDevice;
import io.vioplane.tap.device.TapReadBatch;
import io.vioplane.tap.device.TapWriteBatch;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.MemorySegment;

/**
 * A host TAP device as a port of a {@link Bridge}. Frames the bridge sends out are queued in a {@link TapWriteBatch}
 * and written when the producer's batch ends (one io_uring submission for up to 64 frames), each a gather write
 * straight from where it lies (a guest's buffers) with its virtio-net header first, so checksum and segmentation
 * offloads cross to the kernel untouched. Frames the kernel sends are read by a {@link TapReadBatch} (with read(2),
 * or through io_uring when {@code vioplane.tap.ioUringReads} is set) a burst at a time (up to {@link #BURST} per
 * duty cycle) and enter the bridge in the order the kernel sent them.
 *
 * <p>Link supervision: while the interface is down the kernel refuses writes (EIO): those frames are dropped and
 * counted, the descriptor is kept (closing it would destroy a TAP we created, and the interface may live in another
 * network namespace), and forwarding resumes by itself when the link is up; both changes are logged once. A TAP
 * deleted under us (EBADFD) is gone: the descriptor is closed and once a second the port looks for an interface
 * of that name in the daemon's namespace and re-attaches when there is one. Runs on the bridge's data-plane
 * thread.
 */
public final class TapBridgePort implements BridgeMember, DataPlane.Pollable, AutoCloseable {
    /** Frames read from the TAP per duty cycle. */
    public static final int BURST = 32;
    /** Largest frame read: a 64 KiB GSO segment with headers. */
    public static final int MAX_FRAME_BYTES = 65536 + 18;
    private static final long RECHECK_NS = 1_000_000_000L;
    /**
     * Reads through io_uring ({@link TapReadBatch}) only when {@code -Dvioplane.tap.ioUringReads=true}: the TAP
     * bench showed no gain over one read(2) per frame yet (32 plain reads in flight lost about 30% TAP -> guest).
     */
    private static final boolean IO_URING_READS = Boolean.getBoolean("vioplane.tap.ioUringReads");

    private final String tapName;
    private final Bridge bridge;
    private final DataPlane dataPlane;
    private final ErrorLog log;
    private final int maxFrameBytes;
    private final int index;
    private final boolean multiQueue;
    private final TapWriteBatch writes;
    private final TapReadBatch reads;
    private final BufferTxFrame fromTap = new BufferTxFrame();
    private final CounterSet<LinkCounter> counters;
    private TapDevice tap;
    private boolean linkDown;
    private int offloads;
    private long nextCheckNs;
    private boolean watching;

    /**
     * Attaches to (or creates) the TAP and joins the bridge.
     *
     * @param mtu       the TAP's MTU (frames above it plus an Ethernet header and VLAN tag are dropped toward it)
     * @param dataPlane wakes on the TAP's frames when polled from its thread; may be null when polled by hand
     * @param log       where link changes are logged
     */
    public TapBridgePort(final String tapName, final boolean multiQueue, final Bridge bridge, final int mtu,
                         final Counters counters, final DataPlane dataPlane, final ErrorLog log) {
        this.tapName = tapName;
        this.multiQueue = multiQueue;
        this.bridge = bridge;
        this.dataPlane = dataPlane;
        this.log = log;
        this.maxFrameBytes = mtu + 18;
        this.tap = TapDevice.open(tapName, multiQueue);
        this.writes = new TapWriteBatch(log, this::writeFailed);
        this.writes.attach(tap);
        this.reads = new TapReadBatch(log, new Reception(), IO_URING_READS, true);
        this.reads.attach(tap);
        this.index = bridge.join(this, null);
        this.counters = new CounterSet<>(counters, LinkCounter.class, "tap[" + tapName + "]", CounterType.PORT);
    }

    /** @return the port's index in the bridge */
    public int index() {
        return index;
    }

    /** @return frames dropped because the TAP was down or gone */
    public long droppedWhileDown() {
        return counters.get(LinkCounter.DROPPED_WHILE_DOWN);
    }

    /** @return true while the TAP is attached and its link carried the last frame written */
    public boolean isUp() {
        return tap != null && !linkDown;
    }

    /**
     * Sets which offloads the kernel may use on frames it sends us: those every guest on the bridge negotiated
     * (TUN_F_* bits). Data-plane thread.
     */
    public void setOffloads(final int tunFlags) {
        offloads = tunFlags;
        if (tap != null) {
            try {
                tap.setOffloads(tunFlags);
            } catch (SysException e) {
                log.failure("tap " + tapName + ": offloads 0x" + Integer.toHexString(tunFlags) + " refused: " + e.getMessage());
            }
        }
    }

    /** @return the TUN_F_* offloads last set */
    public int offloads() {
        return offloads;
    }

    @Override
    public boolean egress(final TxFrame frame) {
        if (tap == null) {
            counters.increment(LinkCounter.DROPPED_WHILE_DOWN);
            return false;
        }
        final boolean accepted = writes.write(frame);
        if (accepted && linkDown && !writes.batching()) {
            linkUp();
        }
        return accepted;
    }

    /** Writes the frames queued since the last flush; notices a link that came back. */
    @Override
    public void flush() {
        if (writes.flush() > 0 && linkDown) {
            linkUp();
        }
    }

    private void linkUp() {
        linkDown = false;
        log.info("tap " + tapName + ": link up; forwarding again");
    }

    private void writeFailed(final String call, final int errno) {
        counters.increment(LinkCounter.DROPPED_WHILE_DOWN);
        failed(new SysException(call + " on tap " + tapName, errno));
    }

    /** @return true if writes are batched through io_uring (false: one writev per frame) */
    public boolean batchingWrites() {
        return writes.batching();
    }

    @Override
    public int poll() {
        flush();
        final TapDevice device = tap;
        if (device == null) {
            reattachIfBack();
            return 0;
        }
        if (!watching && dataPlane != null && dataPlane.onDataPlaneThread()) {
            dataPlane.watchReadable(device.fd(), count -> { });
            if (reads.eventFd() != null) {
                dataPlane.watch(reads.eventFd(), count -> { });
            }
            watching = true;
        }
        return reads.poll(BURST);
    }

    /** Takes the frames the {@link TapReadBatch} read into the bridge; no allocation per frame. */
    private final class Reception implements TapReadBatch.Receiver {
        @Override
        public void received(final MemorySegment buffer, final int lengthBytes) {
            fromTap.wrap(buffer, TapDevice.VNET_HEADER_BYTES, lengthBytes - TapDevice.VNET_HEADER_BYTES);
            final NetHeaderValues values = fromTap.headerHolder().readFrom(buffer, 0);
            if (values.needsChecksum()
                    && values.checksumStart() + values.checksumOffset() + 2L > fromTap.lengthBytes()) {
                counters.increment(LinkCounter.READ_ERRORS);
                return;
            }
            bridge.forward(index, fromTap);
        }

        @Override
        public void readFailed(final String call, final int errno) {
            counters.increment(LinkCounter.READ_ERRORS);
            failed(new SysException(call + " on tap " + tapName, errno));
        }
    }

    private void failed(final SysException e) {
        if (e.errno() == Errno.EIO || e.errno() == Errno.EAGAIN) {
            if (!linkDown) {
                linkDown = true;
                counters.increment(LinkCounter.WENT_DOWN);
                log.info("tap " + tapName + ": link down; frames toward it are dropped until it is up");
            }
            return;
        }
        if (tap == null) {
            return;
        }
        if (watching) {
            dataPlane.unwatchReadable(tap.fd());
            if (reads.eventFd() != null) {
                dataPlane.unwatch(reads.eventFd());
            }
            watching = false;
        }
        writes.detach();
        reads.detach();
        tap.close();
        tap = null;
        linkDown = false;
        counters.increment(LinkCounter.WENT_DOWN);
        nextCheckNs = System.nanoTime() + RECHECK_NS;
        log.info("tap " + tapName + ": gone (" + e.getMessage() + "); waiting for an interface of that name");
    }

    private void reattachIfBack() {
        final long now = System.nanoTime();
        if (now < nextCheckNs) {
            return;
        }
        nextCheckNs = now + RECHECK_NS;
        if (!TapDevice.exists(tapName)) {
            return;
        }
        try {
            tap = TapDevice.open(tapName, multiQueue);
            writes.attach(tap);
            reads.attach(tap);
            if (offloads != 0) {
                tap.setOffloads(offloads);
            }
            log.info("tap " + tapName + ": back; attached again");
        } catch (RuntimeException e) {
            tap = null;
        }
    }

    /**
     * Safe unless reads completed unseen: an attached TAP wakes the data plane while a frame waits to be read, the
     * read batch's eventfd when a read completes, and link supervision runs on its timeout.
     */
    @Override
    public boolean readyToPark() {
        return reads.readyToPark();
    }

    @Override
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    @Override
    public String name() {
        return "tap:" + tapName;
    }

    /** Closes the TAP queue (a non-persistent TAP disappears). Call after the data plane stopped polling. */
    @Override
    public void close() {
        writes.close();
        reads.close();
        if (tap != null) {
            tap.close();
            tap = null;
        }
        counters.close();
    }

    /** What the port counts about its TAP's link. */
    enum LinkCounter implements CounterKind {
        WENT_DOWN("went down"),
        DROPPED_WHILE_DOWN("drops: TAP down"),
        READ_ERRORS("read errors");

        private final String label;

        LinkCounter(final String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }
    }
}

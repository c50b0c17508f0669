package io.vioplane.tap.gateway;

import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoVecArray;
import io.vioplane.platform.sys.SysException;
import io.vioplane.tap.device.TapDevice;
import io.vioplane.tap.device.TapWriteBatch;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A {@link TapDevice} as the NAT's host link: frames are queued in a {@link TapWriteBatch} and written a batch at
 * a time when the gateway flushes (each with its 12-byte virtio-net header first, so checksum and segmentation
 * offloads cross to the kernel untouched), and read with their header in front, straight into the gateway's
 * buffer. The kernel may send offloaded frames only as
 * {@code tunOffloads} allows (TUNSETOFFLOAD).
 *
 * <p>A link that is down refuses writes (EIO): the gateway counts those frames. A TAP deleted under the link is
 * closed and logged once; the link then reads nothing and refuses every write (re-attaching is the bridge
 * port's business, {@code TapBridgePort}, not done here).
 */
public final class TapHostLink implements HostLink {
    private final String tapName;
    private final ErrorLog log;
    private final Arena arena = Arena.ofShared();
    private final BufferTxFrame outgoing = new BufferTxFrame();
    private final TapWriteBatch writes;
    private long refused;
    private final IoVecArray readIov = new IoVecArray(arena, 1);
    private TapDevice tap;
    private boolean loggedDown;
    private boolean watching;

    /**
     * Opens (or creates) the TAP.
     *
     * @param tunOffloads TUN_F_* flags: which offloaded frames the kernel may send the gateway
     * @param log         where link trouble is logged
     * @throws io.vioplane.platform.sys.SysException naming the call if the TAP cannot be opened
     */
    public TapHostLink(final String tapName, final int tunOffloads, final ErrorLog log) {
        this.tapName = tapName;
        this.log = log;
        this.tap = TapDevice.open(tapName, false);
        try {
            if (tunOffloads != 0) {
                tap.setOffloads(tunOffloads);
            }
        } catch (RuntimeException e) {
            tap.close();
            arena.close();
            throw e;
        }
        this.writes = new TapWriteBatch(log, this::writeFailed);
        writes.attach(tap);
    }

    @Override
    public boolean send(final NetHeaderValues values, final MemorySegment frame, final long offset,
                        final int lengthBytes) {
        if (tap == null) {
            return false;
        }
        outgoing.wrap(frame, offset, lengthBytes).headerHolder().copyFrom(values);
        final boolean accepted = writes.write(outgoing);
        if (accepted && !writes.batching()) {
            loggedDown = false;
        }
        return accepted;
    }

    @Override
    public void flush() {
        if (writes.flush() > 0) {
            loggedDown = false;
        }
    }

    @Override
    public long takeRefused() {
        final long taken = refused;
        refused = 0;
        return taken;
    }

    private void writeFailed(final String call, final int errno) {
        refused++;
        failed(new SysException(call + " on tap " + tapName, errno));
    }

    @Override
    public int receive(final MemorySegment buffer, final long frameOffset, final int capacityBytes,
                       final NetHeaderValues values) {
        final TapDevice device = tap;
        if (device == null) {
            return 0;
        }
        final long start = frameOffset - TapDevice.VNET_HEADER_BYTES;
        final long n;
        try {
            readIov.set(0, buffer, start, TapDevice.VNET_HEADER_BYTES + (long) capacityBytes);
            n = FileIo.readv(device.fd(), readIov, 1);
        } catch (SysException e) {
            failed(e);
            return 0;
        }
        if (n == FileIo.WOULD_BLOCK || n <= TapDevice.VNET_HEADER_BYTES) {
            return 0;
        }
        values.readFrom(buffer, start);
        return (int) (n - TapDevice.VNET_HEADER_BYTES);
    }

    private void failed(final SysException e) {
        if (e.errno() == Errno.EIO || e.errno() == Errno.EAGAIN) {
            if (!loggedDown) {
                loggedDown = true;
                log.info("nat host link " + tapName + ": link down; frames toward it are dropped until it is up");
            }
            return;
        }
        log.info("nat host link " + tapName + ": gone (" + e.getMessage() + "); the host side stops");
        writes.detach();
        tap.close();
        tap = null;
    }

    @Override
    public void wakeOnFrames(final DataPlane dataPlane) {
        if (!watching && tap != null && dataPlane.onDataPlaneThread()) {
            dataPlane.watchReadable(tap.fd(), count -> { });
            watching = true;
        }
    }

    @Override
    public String name() {
        return "tap:" + tapName;
    }

    /** Closes the TAP (a TAP this link created disappears). Call after the data plane stopped polling. */
    @Override
    public void close() {
        writes.close();
        if (tap != null) {
            tap.close();
            tap = null;
        }
        arena.close();
    }
}

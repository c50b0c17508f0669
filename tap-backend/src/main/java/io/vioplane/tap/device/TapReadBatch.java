package io.vioplane.tap.device;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoUring;
import io.vioplane.platform.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Frames from a TAP read a batch at a time through io_uring(7), where read(2) would make one system call per frame
 * (tuntap.rst: one frame per read). Preferred: one multishot read (IORING_OP_READ_MULTISHOT, Linux 6.7) armed on
 * the TAP, taking its buffers from a ring of {@link #READS} provided buffers (IORING_REGISTER_PBUF_RING, 5.19),
 * so the TAP's wait queue holds one entry however many buffers wait; each completion names the buffer it filled,
 * which goes back to the ring once its frame is handed over. Where the kernel has no multishot read (the first
 * completion is -EINVAL, or the buffer ring is refused): {@link #READS} plain reads (IORING_OP_READ), one per
 * buffer, stay in flight; each one waits on the TAP's wait queue, so a frame's arrival wakes all of them.
 *
 * <p>Each buffer holds a 64 KiB GSO frame with its virtio-net header. The kernel reads a frame that arrives into
 * the next buffer in task work that runs when this thread next enters the kernel (IORING_SETUP_COOP_TASKRUN), and
 * posts its completion in the order the frames were read. {@link #poll} takes completions from the completion
 * ring (shared memory), hands each frame over in that order, gives its buffer back, and makes at most one
 * io_uring_enter(2) per call, which both submits what was queued and runs the pending task work; an idle call
 * makes none (IORING_SETUP_TASKRUN_FLAG says whether task work waits).
 *
 * <p>The TAP's descriptor is opened O_NONBLOCK. Linux 6.18 arms an io_uring read of it all the same (seen in
 * TapReadBatchTest), but kernels that mark reads of O_NONBLOCK files REQ_F_NOWAIT fail them at once with EAGAIN;
 * so while attached the descriptor is made blocking (nothing else reads it; a TAP never sleeps on a write), which
 * keeps reads armed on either, and O_NONBLOCK is restored on {@link #detach}. Wake-ups: the TAP's descriptor
 * stays readable while a frame waits for task work, and {@link #eventFd} is signalled when completions are posted
 * while {@link #readyToPark} has turned its signals on. Without io_uring every frame is read with read(2), as
 * before. One thread; nothing allocated per frame; no lock.
 */
public final class TapReadBatch implements AutoCloseable {
    /** Buffers in the provided-buffer ring (or plain reads kept in flight). */
    public static final int READS = 32;
    /** One buffer: a virtio-net header and a 64 KiB GSO frame with its Ethernet header and VLAN tag. */
    public static final int BUFFER_BYTES = TapDevice.VNET_HEADER_BYTES + 65536 + 18;
    private static final int BUFFER_STRIDE_BYTES = (BUFFER_BYTES + 63) & ~63;
    private static final int BUFFER_GROUP = 0;
    private static final long MULTISHOT_TAG = -1L;
    private static final long BUFFER_RING_TAIL_OFFSET = 14;
    private static final VarHandle SHORT = JAVA_SHORT.varHandle();

    /** Hears of each frame read, and of each read that failed. */
    public interface Receiver {
        /**
         * A frame was read: {@code buffer} holds its virtio-net header then the frame, {@code lengthBytes} in all
         * (header included). Valid until this call returns.
         */
        void received(MemorySegment buffer, int lengthBytes);

        /** A read failed with {@code errno}; {@code call} names it for logs. The receiver may {@link #detach}. */
        void readFailed(String call, int errno);
    }

    private final Receiver receiver;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffers;
    private final MemorySegment[] slots;
    private final long[] completedSlots = new long[READS];
    private final int[] results = new int[READS];
    private final int[] completionFlags = new int[READS];
    private final MemorySegment bufferRing;
    private final IoUring ring;
    private final EventFd eventFd;
    private boolean multishot;
    private boolean bufferRingRegistered;
    private boolean armed;
    private int bufferTail;
    private TapDevice tap;
    private boolean madeBlocking;

    /**
     * @param log      where the absence of io_uring is reported
     * @param receiver hears of frames and failures
     */
    public TapReadBatch(final ErrorLog log, final Receiver receiver) {
        this(log, receiver, true, true);
    }

    /**
     * As {@link #TapReadBatch(ErrorLog, Receiver)}; {@code ioUring} false reads with read(2) only, {@code
     * tryMultishot} false keeps to plain io_uring reads (tests).
     */
    public TapReadBatch(final ErrorLog log, final Receiver receiver, final boolean ioUring,
                        final boolean tryMultishot) {
        this.receiver = receiver;
        IoUring opened = null;
        EventFd signal = null;
        try {
            if (!ioUring) {
                throw new SysException("not asked for", Errno.ENOSYS);
            }
            opened = IoUring.openForPolling(2 * READS);
            signal = EventFd.create();
            opened.registerEventFd(signal.fd());
        } catch (SysException e) {
            log.info("tap: io_uring reads unavailable (" + e.getMessage() + "): one read(2) per frame");
            if (opened != null) {
                opened.close();
                opened = null;
            }
            if (signal != null) {
                signal.close();
                signal = null;
            }
        }
        this.ring = opened;
        this.eventFd = signal;
        final int buffersInUse = ring == null ? 1 : READS;
        buffers = arena.allocate((long) buffersInUse * BUFFER_STRIDE_BYTES, 64);
        bufferRing = arena.allocate((long) READS * IoUring.BUFFER_RING_ENTRY_BYTES, 4096);
        multishot = ring != null && tryMultishot;
        slots = new MemorySegment[buffersInUse];
        for (int i = 0; i < buffersInUse; i++) {
            slots[i] = buffers.asSlice((long) i * BUFFER_STRIDE_BYTES, BUFFER_BYTES);
        }
    }

    /** @return true if reads are batched through io_uring */
    public boolean batching() {
        return ring != null;
    }

    /** @return true if one multishot read with provided buffers does the reading (else {@link #READS} reads) */
    public boolean multishot() {
        return ring != null && multishot;
    }

    /** @return the eventfd signalled when completions are posted (watch it), or null without io_uring */
    public EventFd eventFd() {
        return eventFd;
    }

    /** Reads from {@code device} from now on, with every buffer in flight on it. */
    public void attach(final TapDevice device) {
        detach();
        tap = device;
        if (ring == null || device == null) {
            return;
        }
        FileIo.setNonBlocking(device.fd(), false);
        madeBlocking = true;
        ring.registerFile(device.fd());
        if (multishot) {
            try {
                bufferRing.fill((byte) 0);
                bufferTail = 0;
                for (int i = 0; i < READS; i++) {
                    giveBack(i);
                }
                publishBuffers();
                ring.registerBufferRing(bufferRing, READS, BUFFER_GROUP);
                bufferRingRegistered = true;
                ring.prepareReadMultishot(BUFFER_GROUP, MULTISHOT_TAG);
                armed = true;
            } catch (SysException e) {
                multishot = false;
            }
        }
        if (!multishot) {
            armAllReads();
        }
        ring.submit();
    }

    private void armAllReads() {
        for (int i = 0; i < READS; i++) {
            ring.prepareRead(slots[i], BUFFER_BYTES, i);
        }
    }

    /** Puts buffer {@code slot} at the provided-buffer ring's tail (published by {@link #publishBuffers}). */
    private void giveBack(final int slot) {
        final long at = (long) (bufferTail & (READS - 1)) * IoUring.BUFFER_RING_ENTRY_BYTES;
        bufferRing.set(JAVA_LONG, at, slots[slot].address());
        bufferRing.set(JAVA_INT, at + 8, BUFFER_BYTES);
        bufferRing.set(JAVA_SHORT, at + 12, (short) slot);
        bufferTail++;
    }

    private void publishBuffers() {
        SHORT.setRelease(bufferRing, BUFFER_RING_TAIL_OFFSET, (short) bufferTail);
    }

    /** Stops reading: the reads in flight are cancelled (frames they had read are dropped). */
    public void detach() {
        if (ring != null) {
            ring.cancelAll();
            armed = false;
            if (bufferRingRegistered) {
                ring.unregisterBufferRing(BUFFER_GROUP);
                bufferRingRegistered = false;
            }
            ring.unregisterFile();
        }
        if (madeBlocking) {
            madeBlocking = false;
            try {
                FileIo.setNonBlocking(tap.fd(), true);
            } catch (SysException e) {
                // the descriptor is going away (a TAP that is gone); nothing reads it any more
            }
        }
        tap = null;
    }

    /**
     * Hands up to {@code maxFrames} frames to the receiver, in the order the TAP gave them.
     *
     * @return frames handed over
     */
    public int poll(final int maxFrames) {
        if (tap == null) {
            return 0;
        }
        if (ring == null) {
            return readEach(maxFrames);
        }
        return multishot ? reapMultishot(maxFrames) : reapAndRequeue(maxFrames);
    }

    private int reapMultishot(final int maxFrames) {
        ring.eventFdSignals(false);
        final int reaped = ring.reap(completedSlots, results, completionFlags, Math.min(maxFrames, READS));
        int frames = 0;
        for (int i = 0; i < reaped; i++) {
            final int result = results[i];
            final int flags = completionFlags[i];
            if ((flags & IoUring.CQE_F_MORE) == 0) {
                armed = false;
            }
            if ((flags & IoUring.CQE_F_BUFFER) != 0) {
                final int slot = flags >>> IoUring.CQE_BUFFER_SHIFT;
                if (result > TapDevice.VNET_HEADER_BYTES) {
                    receiver.received(slots[slot], result);
                    frames++;
                }
                giveBack(slot);
            } else if (result == -Errno.EINVAL && frames == 0 && !armed) {
                multishot = false;
                armAllReads();
            } else if (result < 0 && result != -Errno.ENOBUFS && result != -Errno.EAGAIN
                    && result != -Errno.ECANCELED) {
                receiver.readFailed("read multishot (io_uring)", -result);
            }
            if (tap == null) {
                return frames;
            }
        }
        if (reaped > 0) {
            publishBuffers();
        }
        if (multishot && !armed) {
            ring.prepareReadMultishot(BUFFER_GROUP, MULTISHOT_TAG);
            armed = true;
        }
        ring.submitAndRunTaskWork();
        return frames;
    }

    private int reapAndRequeue(final int maxFrames) {
        ring.eventFdSignals(false);
        final int reaped = ring.reap(completedSlots, results, Math.min(maxFrames, READS));
        int frames = 0;
        for (int i = 0; i < reaped; i++) {
            final int slot = (int) completedSlots[i];
            final int result = results[i];
            if (result > TapDevice.VNET_HEADER_BYTES) {
                receiver.received(slots[slot], result);
                frames++;
            } else if (result < 0 && result != -Errno.EAGAIN && result != -Errno.ECANCELED) {
                receiver.readFailed("read (io_uring)", -result);
            }
            if (tap == null) {
                return frames;
            }
            ring.prepareRead(slots[slot], BUFFER_BYTES, slot);
        }
        ring.submitAndRunTaskWork();
        return frames;
    }

    private int readEach(final int maxFrames) {
        final MemorySegment buffer = slots[0];
        int frames = 0;
        while (frames < maxFrames) {
            final long n;
            try {
                n = tap.read(buffer, BUFFER_BYTES);
            } catch (SysException e) {
                receiver.readFailed("read", e.errno());
                return frames;
            }
            if (n == FileIo.WOULD_BLOCK || n <= TapDevice.VNET_HEADER_BYTES) {
                break;
            }
            receiver.received(buffer, (int) n);
            frames++;
        }
        return frames;
    }

    /**
     * Turns the eventfd's signals on before the thread sleeps.
     *
     * @return false if completions already wait (poll again rather than sleep)
     */
    public boolean readyToPark() {
        if (ring == null || tap == null) {
            return true;
        }
        ring.eventFdSignals(true);
        return ring.completionsReady() == 0;
    }

    /** Cancels the reads and releases the ring, eventfd and buffers (the TAP itself belongs to the caller). */
    @Override
    public void close() {
        detach();
        if (ring != null) {
            ring.close();
            eventFd.close();
        }
        arena.close();
    }
}

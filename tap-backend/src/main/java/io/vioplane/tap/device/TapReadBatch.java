package io.vioplane.tap.device;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoUring;
import io.vioplane.platform.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Frames from a TAP read a batch at a time: {@link #READS} reads (Linux io_uring(7), IORING_OP_READ), each into a
 * buffer of its own large enough for a 64 KiB GSO frame with its virtio-net header, stay in flight on the TAP.
 * The kernel arms each on the TAP's wait queue; a frame that arrives is read into the next armed buffer by task
 * work that runs when this thread enters the kernel, and its completion is posted to the completion ring in the
 * order the frames were read (tuntap.rst: one frame per read). {@link #poll} takes completions from that ring
 * (shared memory), hands each frame over in that order, queues its buffer again, and makes at most one
 * io_uring_enter(2) per call, which both submits the queued buffers and runs the pending task work; an idle call
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
    /** Reads kept in flight. */
    public static final int READS = 32;
    /** One buffer: a virtio-net header and a 64 KiB GSO frame with its Ethernet header and VLAN tag. */
    public static final int BUFFER_BYTES = TapDevice.VNET_HEADER_BYTES + 65536 + 18;
    private static final int BUFFER_STRIDE_BYTES = (BUFFER_BYTES + 63) & ~63;

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
    private final IoUring ring;
    private final EventFd eventFd;
    private TapDevice tap;
    private boolean madeBlocking;

    /**
     * @param log      where the absence of io_uring is reported
     * @param receiver hears of frames and failures
     */
    public TapReadBatch(final ErrorLog log, final Receiver receiver) {
        this.receiver = receiver;
        IoUring opened = null;
        EventFd signal = null;
        try {
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
        slots = new MemorySegment[buffersInUse];
        for (int i = 0; i < buffersInUse; i++) {
            slots[i] = buffers.asSlice((long) i * BUFFER_STRIDE_BYTES, BUFFER_BYTES);
        }
    }

    /** @return true if reads are batched through io_uring */
    public boolean batching() {
        return ring != null;
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
        for (int i = 0; i < READS; i++) {
            ring.prepareRead(slots[i], BUFFER_BYTES, i);
        }
        ring.submit();
    }

    /** Stops reading: the reads in flight are cancelled (frames they had read are dropped). */
    public void detach() {
        if (ring != null) {
            ring.cancelAll();
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
        return ring == null ? readEach(maxFrames) : reapAndRequeue(maxFrames);
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

package io.vioplane.virtionet.port;

import io.vioplane.platform.sys.Mmap;
import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A fixed ring of frame slots in native memory, for a port that must keep frames between a guest's transmit
 * and a receive (a loopback, a queue toward another thread's device). Each slot holds one frame of up to
 * {@link #slotBytes()} bytes and its header. Single-threaded; no allocation after construction.
 *
 * <p>Whenever the ring drains, the next frame goes to slot 0 again: a ring that is emptied every poll (the usual
 * case) keeps reusing the same few slots, which stay in the CPU's caches, instead of streaming through all of
 * its memory.
 */
public final class FrameRing implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment slots;
    private final int slotCount;
    private final int slotBytes;
    private final int[] lengths;
    private final NetHeaderValues[] headers;
    private long head;
    private long tail;

    /**
     * @param slotCount frames the ring holds
     * @param slotBytes the largest frame a slot holds
     */
    public FrameRing(final int slotCount, final int slotBytes) {
        if (slotCount < 1 || slotBytes < 64) {
            throw new IllegalArgumentException("a frame ring needs slots of at least 64 bytes: " + slotCount + "x" + slotBytes);
        }
        this.slotCount = slotCount;
        this.slotBytes = slotBytes;
        this.slots = Mmap.mapAnonymous((long) slotCount * slotBytes, false, arena);
        if (slots.byteSize() >= 2L << 20) {
            Mmap.advise(slots, Mmap.MADV_HUGEPAGE);
        }
        this.lengths = new int[slotCount];
        this.headers = new NetHeaderValues[slotCount];
        for (int i = 0; i < slotCount; i++) {
            headers[i] = new NetHeaderValues();
        }
    }

    /** @return the largest frame a slot holds */
    public int slotBytes() {
        return slotBytes;
    }

    /** @return frames waiting */
    public int size() {
        return (int) (tail - head);
    }

    /** @return true if no slot is free */
    public boolean isFull() {
        return tail - head == slotCount;
    }

    /** @return true if no frame waits */
    public boolean isEmpty() {
        return tail == head;
    }

    /**
     * Reserves the next free slot for a frame of {@code lengthBytes}; the caller fills the slot at {@link #tailOffset()} and
     * {@link #tailHeader()}, then calls {@link #commit()}.
     *
     * @return false if the ring is full or the frame does not fit a slot
     */
    public boolean canTake(final int lengthBytes) {
        return tail - head < slotCount && lengthBytes <= slotBytes;
    }

    /** @return the free slot's offset in {@link #memory()} */
    public long tailOffset() {
        return (tail % slotCount) * (long) slotBytes;
    }

    /** @return the free slot's header holder */
    public NetHeaderValues tailHeader() {
        return headers[(int) (tail % slotCount)];
    }

    /** Publishes the filled tail slot as a frame of {@code lengthBytes}. */
    public void commit(final int lengthBytes) {
        lengths[(int) (tail % slotCount)] = lengthBytes;
        tail++;
    }

    /** @return the whole ring's memory (slot {@code i} at {@code i * slotBytes}) */
    public MemorySegment memory() {
        return slots;
    }

    /** @return the oldest frame's offset in {@link #memory()} */
    public long headOffset() {
        return (head % slotCount) * (long) slotBytes;
    }

    /** @return the oldest frame's length */
    public int headLength() {
        return lengths[(int) (head % slotCount)];
    }

    /** @return the oldest frame's header */
    public NetHeaderValues headHeader() {
        return headers[(int) (head % slotCount)];
    }

    /**
     * Copies {@code frame} and its header into the next free slot.
     *
     * @return false if the ring is full or the frame does not fit a slot
     */
    public boolean offer(final TxFrame frame) {
        final int length = frame.lengthBytes();
        if (!canTake(length)) {
            return false;
        }
        frame.copyTo(0, slots, tailOffset(), length);
        tailHeader().copyFrom(frame.header());
        commit(length);
        return true;
    }

    /**
     * Delivers waiting frames, oldest first, until {@code max} are delivered, the ring is empty, or the
     * destination has no room (that frame stays for the next call).
     *
     * @return frames delivered
     */
    public int deliverTo(final RxDestination destination, final int max) {
        int delivered = 0;
        while (delivered < max && head != tail) {
            if (!destination.deliver(slots, headOffset(), headLength(), headHeader())) {
                break;
            }
            head++;
            delivered++;
        }
        rewindIfEmpty();
        return delivered;
    }

    /** Drops the oldest frame. */
    public void removeHead() {
        if (head == tail) {
            throw new IllegalStateException("the frame ring is empty");
        }
        head++;
        rewindIfEmpty();
    }

    private void rewindIfEmpty() {
        if (head == tail) {
            head = 0;
            tail = 0;
        }
    }

    /** Frees the ring's memory. */
    @Override
    public void close() {
        arena.close();
    }
}

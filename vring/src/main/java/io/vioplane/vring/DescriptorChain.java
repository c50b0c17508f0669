package io.vioplane.vring;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;

import java.lang.foreign.MemorySegment;

/**
 * One descriptor chain as a device sees it after the queue walked and checked it: its id for the used ring,
 * and its buffers split into device-readable segments followed by device-writable segments (VIRTIO 1.x
 * section 2.7.4 "Message Framing": readable before writable).
 *
 * <p>A reusable cursor: a queue fills it on each pop, allocating nothing. Each segment is kept as the guest
 * address and length the driver gave, plus the host segment holding it and the offset there, resolved once
 * through the {@link DmaSpace}; every later access through {@link #segmentBase(int)} is still
 * bounds-checked by the JVM against that region.
 *
 * <p>Limits enforced while the chain is built (each a {@link RingViolation}): readable after writable, more
 * than {@link #maxSegments()} non-empty segments, more than 2^32 bytes in total, a buffer outside memory.
 * Zero-length descriptors are accepted and skipped.
 *
 * <p>Behind an IOMMU ({@link DmaSpace#refusal()}): a buffer that maps to scattered guest pages becomes one segment
 * per piece; a buffer whose mapping lacks the permission the descriptor needs makes the chain {@link #denied()}
 * (its structure is still checked, its buffers are not used: the device fails that request and counts it); a buffer
 * the IOMMU has no translation for yet makes it {@link #translationPending()} (the queue takes it again later).
 */
public final class DescriptorChain {
    /** The total length limit of a chain in bytes (2^32). */
    public static final long MAX_TOTAL_BYTES = 1L << 32;
    /** The default segment limit, like QEMU's VIRTQUEUE_MAX_SIZE and Linux's UIO_MAXIOV. */
    public static final int DEFAULT_MAX_SEGMENTS = 1024;

    private final int maxSegments;
    private final long[] gpas;
    private final int[] lengths;
    private final MemorySegment[] bases;
    private final long[] offsets;
    private final DmaRange range = new DmaRange();

    private int headId = -1;
    private int ringSlots;
    private int segmentCount;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;
    private long totalBytes;
    private boolean denied;
    private boolean translationPending;

    /** A chain cursor accepting up to {@link #DEFAULT_MAX_SEGMENTS} segments. */
    public DescriptorChain() {
        this(DEFAULT_MAX_SEGMENTS);
    }

    /** @param maxSegments the most non-empty segments a chain may have */
    public DescriptorChain(final int maxSegments) {
        if (maxSegments < 1) {
            throw new IllegalArgumentException("a chain needs room for at least one segment: " + maxSegments);
        }
        this.maxSegments = maxSegments;
        this.gpas = new long[maxSegments];
        this.lengths = new int[maxSegments];
        this.bases = new MemorySegment[maxSegments];
        this.offsets = new long[maxSegments];
    }

    /** @return an array of {@code count} fresh cursors, for batched pops */
    public static DescriptorChain[] batch(final int count, final int maxSegments) {
        final DescriptorChain[] chains = new DescriptorChain[count];
        for (int i = 0; i < count; i++) {
            chains[i] = new DescriptorChain(maxSegments);
        }
        return chains;
    }

    /** @return the most non-empty segments this cursor accepts */
    public int maxSegments() {
        return maxSegments;
    }

    /**
     * Starts a new chain (for queue implementations).
     *
     * @param id the id the device returns in the used ring: the head index (split) or buffer id (packed)
     */
    public void begin(final int id) {
        headId = id;
        ringSlots = 0;
        segmentCount = 0;
        readableCount = 0;
        readableBytes = 0;
        writableBytes = 0;
        totalBytes = 0;
        denied = false;
        translationPending = false;
    }

    /** Sets the chain's id once known (packed rings carry it in the last descriptor). */
    public void setId(final int id) {
        headId = id;
    }

    /** Records that the chain occupies {@code slots} descriptors of the ring (packed). */
    public void setRingSlots(final int slots) {
        ringSlots = slots;
    }

    /**
     * Appends one descriptor's buffer (for queue implementations).
     *
     * @param gpa         the buffer's address in the queue's DMA space
     * @param length      the descriptor's length field, an unsigned 32-bit value
     * @param writable    true for a device-writable buffer
     * @param memory      where the buffer must lie
     * @return null if accepted, otherwise the violation
     */
    public RingViolation addSegment(final long gpa, final int length, final boolean writable, final DmaSpace memory) {
        if (!writable && segmentCount > readableCount) {
            return RingViolation.READABLE_AFTER_WRITABLE;
        }
        final long lengthBytes = Integer.toUnsignedLong(length);
        totalBytes += lengthBytes;
        if (totalBytes > MAX_TOTAL_BYTES) {
            return RingViolation.CHAIN_TOO_LARGE;
        }
        if (lengthBytes == 0) {
            return null;
        }
        final AccessMode mode = writable ? AccessMode.WRITE : AccessMode.READ;
        for (long done = 0; done < lengthBytes; ) {
            if (segmentCount == maxSegments) {
                return RingViolation.CHAIN_TOO_LONG;
            }
            final long piece = memory.resolvePiece(gpa + done, lengthBytes - done, mode, range);
            if (piece <= 0) {
                return refused(memory.refusal());
            }
            final int index = segmentCount++;
            gpas[index] = gpa + done;
            lengths[index] = (int) piece;
            bases[index] = range.segment();
            offsets[index] = range.offset();
            if (!writable) {
                readableCount++;
            }
            done += piece;
        }
        if (writable) {
            writableBytes += lengthBytes;
        } else {
            readableBytes += lengthBytes;
        }
        return null;
    }

    /**
     * Records why a buffer (or, for queue implementations, an indirect table) could not be resolved.
     *
     * @return null if the chain goes on (denied or pending: see {@link #denied()}, {@link #translationPending()}),
     *     else {@link RingViolation#BUFFER_OUT_OF_RANGE}
     */
    public RingViolation refused(final MemoryAccessException.Reason reason) {
        switch (reason) {
            case DENIED -> denied = true;
            case TRANSLATION_PENDING -> translationPending = true;
            default -> {
                return RingViolation.BUFFER_OUT_OF_RANGE;
            }
        }
        return null;
    }

    /**
     * @return true if an IOMMU mapping of one of the chain's buffers lacks the permission its descriptor needs: the
     *     chain is taken, its buffers must not be used, the device returns it without data and counts it
     */
    public boolean denied() {
        return denied;
    }

    /** @return true if an IOMMU had no translation yet for one of the chain's buffers (the queue did not take it) */
    public boolean translationPending() {
        return translationPending;
    }

    /** @return the id to return in the used ring */
    public int headId() {
        return headId;
    }

    /** @return how many ring descriptors the chain occupies (packed; 1 per chain for split) */
    public int ringSlots() {
        return ringSlots;
    }

    /** @return how many non-empty segments the chain has */
    public int segmentCount() {
        return segmentCount;
    }

    /** @return how many of them are device-readable (they come first) */
    public int readableCount() {
        return readableCount;
    }

    /** @return how many are device-writable (they follow the readable ones) */
    public int writableCount() {
        return segmentCount - readableCount;
    }

    /** @return the device-readable bytes in the chain */
    public long readableBytes() {
        return readableBytes;
    }

    /** @return the device-writable bytes in the chain */
    public long writableBytes() {
        return writableBytes;
    }

    /** @return segment {@code index}'s address in the queue's DMA space */
    public long segmentGpa(final int index) {
        return gpas[checked(index)];
    }

    /** @return segment {@code index}'s length in bytes */
    public long segmentLength(final int index) {
        return Integer.toUnsignedLong(lengths[checked(index)]);
    }

    /** @return the host segment holding segment {@code index} (a whole region: use {@link #segmentOffset}) */
    public MemorySegment segmentBase(final int index) {
        return bases[checked(index)];
    }

    /** @return the offset of segment {@code index} in {@link #segmentBase(int)} */
    public long segmentOffset(final int index) {
        return offsets[checked(index)];
    }

    /** @return true if segment {@code index} is device-writable */
    public boolean segmentWritable(final int index) {
        return checked(index) >= readableCount;
    }

    private int checked(final int index) {
        if (index < 0 || index >= segmentCount) {
            throw new IndexOutOfBoundsException("segment " + index + " of " + segmentCount);
        }
        return index;
    }

    /**
     * Copies readable bytes, seen as one run starting at the first readable segment, into {@code destination}.
     *
     * @param readableOffset where in the readable run to start
     * @return bytes copied: {@code lengthBytes}, or fewer if the readable run ends first
     */
    public long copyFromReadable(final long readableOffset, final MemorySegment destination, final long destinationOffset,
                                 final long lengthBytes) {
        return copy(0, readableCount, readableOffset, destination, destinationOffset, lengthBytes, true);
    }

    /**
     * Copies {@code source} into the writable bytes, seen as one run starting at the first writable segment.
     *
     * @param writableOffset where in the writable run to start
     * @return bytes copied: {@code lengthBytes}, or fewer if the writable run ends first
     */
    public long copyToWritable(final long writableOffset, final MemorySegment source, final long sourceOffset,
                               final long lengthBytes) {
        return copy(readableCount, segmentCount, writableOffset, source, sourceOffset, lengthBytes, false);
    }

    private long copy(final int first, final int end, final long runOffset, final MemorySegment other, final long otherOffset,
                      final long lengthBytes, final boolean fromChain) {
        long skip = runOffset;
        long done = 0;
        for (int i = first; i < end && done < lengthBytes; i++) {
            final long segmentLength = Integer.toUnsignedLong(lengths[i]);
            if (skip >= segmentLength) {
                skip -= segmentLength;
                continue;
            }
            final long chunk = Math.min(segmentLength - skip, lengthBytes - done);
            if (fromChain) {
                MemorySegment.copy(bases[i], offsets[i] + skip, other, otherOffset + done, chunk);
            } else {
                MemorySegment.copy(other, otherOffset + done, bases[i], offsets[i] + skip, chunk);
            }
            done += chunk;
            skip = 0;
        }
        return done;
    }

    @Override
    public String toString() {
        return "DescriptorChain[id=" + headId + ", readable=" + readableCount + "/" + readableBytes + "B, writable="
                + writableCount() + "/" + writableBytes + "B]";
    }
}

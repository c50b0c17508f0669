package io.vioplane.vhostuser.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One split virtqueue's part of the shared inflight buffer (QEMU docs/interop/vhost-user.rst, "Inflight I/O
 * tracking", split virtqueue layout), little-endian:
 *
 * <pre>
 *   offset  field                      desc[i] at 16 + 16 i:
 *   0       u64 features               0   u8  inflight (1 while the chain is taken, not used)
 *   8       u16 version (1)            1   u8  padding[5]
 *   10      u16 desc_num (queue size)  6   u16 next
 *   12      u16 last_batch_head        8   u64 counter (order the chains were taken in)
 *   14      u16 used_idx
 * </pre>
 *
 * The buffer belongs to the front-end and outlives the back-end's process. {@link #recover} reads what a previous
 * instance left, once, checking every field (a front-end may hand back anything), and returns where the avail
 * ring resumes; the hooks then keep it current. A region that fails a check is reset, and the ring resumes at
 * the used index as if nothing was tracked.
 */
public final class SplitInflightRegion {
    /** The layout version written here. */
    public static final int VERSION = 1;
    private static final int HEADER_BYTES = 16;
    private static final int DESC_BYTES = 16;
    private static final int ALIGNMENT = 64;
    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();
    private static final VarHandle SHORT = ValueLayout.JAVA_SHORT.varHandle();

    private final MemorySegment region;
    private final int queueSize;
    private int[] resubmit = new int[0];
    private long counter;

    /**
     * @param region    this queue's bytes of the shared buffer ({@link #bytesFor(int)} long)
     * @param queueSize the ring's size
     */
    public SplitInflightRegion(final MemorySegment region, final int queueSize) {
        if (region.byteSize() < bytesFor(queueSize)) {
            throw new IllegalArgumentException("inflight region of " + region.byteSize() + " bytes for a queue of "
                    + queueSize);
        }
        this.region = region;
        this.queueSize = queueSize;
    }

    /** @return the bytes one queue of {@code queueSize} needs, aligned to 64 */
    public static long bytesFor(final int queueSize) {
        final long raw = HEADER_BYTES + (long) DESC_BYTES * queueSize;
        return (raw + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /**
     * Reads what a previous instance left and prepares the heads to resubmit.
     *
     * @param usedIndexInRing  the used index in guest memory now
     * @param availIndexInRing the available index in guest memory now: no more chains can be in flight than the
     *                         driver made available past the used index
     * @return why the region was reset, or null if it was usable
     */
    public String recover(final int usedIndexInRing, final int availIndexInRing) {
        final int version = Short.toUnsignedInt(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 8));
        if (version == 0) {
            initialize(usedIndexInRing);
            return null;
        }
        final String corruption = check(version, usedIndexInRing);
        if (corruption != null) {
            initialize(usedIndexInRing);
            return corruption;
        }
        final int recordedUsed = Short.toUnsignedInt(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 14));
        if (recordedUsed != usedIndexInRing) {
            final int lastBatchHead = Short.toUnsignedInt(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 12));
            region.set(ValueLayout.JAVA_BYTE, desc(lastBatchHead), (byte) 0);
            region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 14, (short) usedIndexInRing);
        }
        final java.util.List<long[]> taken = new java.util.ArrayList<>();
        long maxCounter = 0;
        for (int head = 0; head < queueSize; head++) {
            if (region.get(ValueLayout.JAVA_BYTE, desc(head)) == 1) {
                final long order = region.get(ValueLayout.JAVA_LONG_UNALIGNED, desc(head) + 8);
                taken.add(new long[] {order, head});
                maxCounter = Math.max(maxCounter, order);
            }
        }
        final int available = (availIndexInRing - usedIndexInRing) & 0xFFFF;
        if (taken.size() > available) {
            initialize(usedIndexInRing);
            return taken.size() + " chains marked in flight, but the driver made only " + available
                    + " available past the used index";
        }
        taken.sort((x, y) -> Long.compareUnsigned(x[0], y[0]));
        resubmit = taken.stream().mapToInt(pair -> (int) pair[1]).toArray();
        counter = maxCounter + 1;
        return null;
    }

    private String check(final int version, final int usedIndexInRing) {
        if (version != VERSION) {
            return "version " + version + ", expected " + VERSION;
        }
        final int descNum = Short.toUnsignedInt(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 10));
        if (descNum != queueSize) {
            return "desc_num " + descNum + " for a ring of " + queueSize;
        }
        final int lastBatchHead = Short.toUnsignedInt(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 12));
        if (lastBatchHead >= queueSize) {
            return "last_batch_head " + lastBatchHead + " outside a ring of " + queueSize;
        }
        final int recordedUsed = Short.toUnsignedInt(region.get(ValueLayout.JAVA_SHORT_UNALIGNED, 14));
        final int ahead = (usedIndexInRing - recordedUsed) & 0xFFFF;
        if (ahead > 1) {
            return "used_idx " + recordedUsed + " is " + ahead + " behind the ring's " + usedIndexInRing
                    + " (at most one used element can be unrecorded)";
        }
        for (int head = 0; head < queueSize; head++) {
            final byte flag = region.get(ValueLayout.JAVA_BYTE, desc(head));
            if (flag != 0 && flag != 1) {
                return "desc[" + head + "].inflight is " + flag;
            }
        }
        return null;
    }

    private void initialize(final int usedIndexInRing) {
        region.asSlice(0, bytesFor(queueSize)).fill((byte) 0);
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 10, (short) queueSize);
        region.set(ValueLayout.JAVA_SHORT_UNALIGNED, 14, (short) usedIndexInRing);
        SHORT.setRelease(region, 8L, (short) VERSION);
        resubmit = new int[0];
        counter = 1;
    }

    private static long desc(final int head) {
        return HEADER_BYTES + (long) head * DESC_BYTES;
    }

    /** @return heads to take again, in the order the previous instance took them */
    public int resubmitCount() {
        return resubmit.length;
    }

    /** @return resubmitted head {@code i} */
    public int resubmitHead(final int i) {
        return resubmit[i];
    }

    /** Chain {@code head} was taken (head checked by the ring walk: below the queue size). */
    public void taken(final int head) {
        region.set(ValueLayout.JAVA_LONG_UNALIGNED, desc(head) + 8, counter++);
        BYTE.setRelease(region, desc(head), (byte) 1);
    }

    /** Chain {@code head}'s used element is about to be published. */
    public void usedNext(final int head) {
        SHORT.setRelease(region, 12L, (short) head);
    }

    /** The used index now covers chain {@code head}. */
    public void usedPublished(final int head, final int usedIndex) {
        BYTE.setRelease(region, desc(head), (byte) 0);
        SHORT.setRelease(region, 14L, (short) usedIndex);
    }
}

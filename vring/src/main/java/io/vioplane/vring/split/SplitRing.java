package io.vioplane.vring.split;

/**
 * The layout of a split virtqueue of N descriptors (VIRTIO 1.x sections 2.7.5, 2.7.6 and 2.7.8). All
 * fields little-endian; indices are free-running 16-bit counters.
 *
 * <pre>
 *   descriptor table (align 16, 16*N)     available ring (align 2, 6+2N)   used ring (align 4, 6+8N)
 *   0   le64 addr                         0   le16 flags (NO_INTERRUPT 1)  0   le16 flags (NO_NOTIFY 1)
 *   8   le32 len                          2   le16 idx                     2   le16 idx
 *   12  le16 flags (NEXT 1, WRITE 2,      4   le16 ring[N]                 4   { le32 id; le32 len } ring[N]
 *                   INDIRECT 4)           4+2N le16 used_event             4+8N le16 avail_event
 *   14  le16 next
 * </pre>
 */
public final class SplitRing {
    public static final int DESC_BYTES = 16;
    public static final int DESC_ADDR = 0;
    public static final int DESC_LEN = 8;
    public static final int DESC_FLAGS = 12;
    public static final int DESC_NEXT = 14;
    public static final int F_NEXT = 1;
    public static final int F_WRITE = 2;
    public static final int F_INDIRECT = 4;

    public static final int AVAIL_FLAGS = 0;
    public static final int AVAIL_IDX = 2;
    public static final int AVAIL_RING = 4;
    public static final int AVAIL_F_NO_INTERRUPT = 1;

    public static final int USED_FLAGS = 0;
    public static final int USED_IDX = 2;
    public static final int USED_RING = 4;
    public static final int USED_ELEM_BYTES = 8;
    public static final int USED_F_NO_NOTIFY = 1;

    public static final int DESC_ALIGN = 16;
    public static final int AVAIL_ALIGN = 2;
    public static final int USED_ALIGN = 4;

    private SplitRing() {
    }

    /** @return bytes of the descriptor table */
    public static long descTableBytes(final int size) {
        return (long) DESC_BYTES * size;
    }

    /** @return bytes of the available ring, used_event included */
    public static long availRingBytes(final int size) {
        return 6L + 2L * size;
    }

    /** @return bytes of the used ring, avail_event included */
    public static long usedRingBytes(final int size) {
        return 6L + (long) USED_ELEM_BYTES * size;
    }

    /** @return offset of used_event in the available ring */
    public static long usedEventOffset(final int size) {
        return AVAIL_RING + 2L * size;
    }

    /** @return offset of avail_event in the used ring */
    public static long availEventOffset(final int size) {
        return USED_RING + (long) USED_ELEM_BYTES * size;
    }

    /**
     * The event-index rule (section 2.7.10): notify iff {@code eventIdx} lies in {@code [old, new)} modulo
     * 2^16, i.e. {@code (u16)(new - event - 1) < (u16)(new - old)}.
     */
    public static boolean needsEvent(final int eventIdx, final int newIdx, final int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF);
    }
}

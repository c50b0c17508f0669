package io.vioplane.vring.packed;

/**
 * The layout of a packed virtqueue (VIRTIO 1.x sections 2.8.13 and 2.8.14). All fields little-endian.
 *
 * <pre>
 *   descriptor ring (align 16, 16*N)        event suppression (align 4, 4 bytes; one per direction)
 *   0   le64 addr                           0   le16 desc: off (bits 0-14), wrap (bit 15)
 *   8   le32 len                            2   le16 flags: ENABLE 0, DISABLE 1, DESC 2
 *   12  le16 id
 *   14  le16 flags: NEXT 1, WRITE 2, INDIRECT 4, AVAIL 1&lt;&lt;7, USED 1&lt;&lt;15
 * </pre>
 *
 * A descriptor is available when AVAIL equals the driver's wrap counter and USED does not; used when both
 * equal the device's wrap counter. Both counters start at 1 and flip each time their side passes the end of
 * the ring.
 */
public final class PackedRing {
    public static final int DESC_BYTES = 16;
    public static final int DESC_ADDR = 0;
    public static final int DESC_LEN = 8;
    public static final int DESC_ID = 12;
    public static final int DESC_FLAGS = 14;
    public static final int F_NEXT = 1;
    public static final int F_WRITE = 2;
    public static final int F_INDIRECT = 4;
    public static final int F_AVAIL = 1 << 7;
    public static final int F_USED = 1 << 15;

    public static final int EVENT_OFF_WRAP = 0;
    public static final int EVENT_FLAGS = 2;
    public static final int EVENT_ENABLE = 0;
    public static final int EVENT_DISABLE = 1;
    public static final int EVENT_DESC = 2;
    public static final int EVENT_BYTES = 4;

    public static final int DESC_ALIGN = 16;
    public static final int EVENT_ALIGN = 4;

    private PackedRing() {
    }

    /** @return true if {@code flags} mark a descriptor available for a driver wrap counter of {@code wrap} */
    public static boolean isAvailable(final int flags, final boolean wrap) {
        return ((flags & F_AVAIL) != 0) == wrap && ((flags & F_USED) != 0) != wrap;
    }

    /** @return true if {@code flags} mark a descriptor used for a device wrap counter of {@code wrap} */
    public static boolean isUsed(final int flags, final boolean wrap) {
        return ((flags & F_AVAIL) != 0) == wrap && ((flags & F_USED) != 0) == wrap;
    }

    /** @return the AVAIL/USED bits a driver sets to make a descriptor available under wrap counter {@code wrap} */
    public static int availableBits(final boolean wrap) {
        return wrap ? F_AVAIL : F_USED;
    }

    /** @return the AVAIL/USED bits a device sets to mark a descriptor used under wrap counter {@code wrap} */
    public static int usedBits(final boolean wrap) {
        return wrap ? F_AVAIL | F_USED : 0;
    }

    /**
     * Whether an event at ring position {@code eventOffset} with wrap bit {@code eventWrap} lies among the
     * {@code advanced} positions that ended at {@code newPosition} (current wrap {@code wrap}): the
     * event-index rule of section 2.7.10 applied to ring positions, an event from the previous lap counting
     * {@code size} positions back.
     */
    public static boolean needsEvent(final int eventOffset, final boolean eventWrap, final int newPosition,
                                     final boolean wrap, final int advanced, final int size) {
        final int event = eventWrap == wrap ? eventOffset : eventOffset - size;
        final int old = newPosition - advanced;
        return ((newPosition - event - 1) & 0xFFFF) < ((newPosition - old) & 0xFFFF);
    }
}

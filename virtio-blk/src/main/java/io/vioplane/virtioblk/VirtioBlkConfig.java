package io.vioplane.virtioblk;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The virtio-blk configuration space (VIRTIO 1.x section 5.2.4), little-endian, as the driver reads it:
 *
 * <pre>
 *   offset  field                       offset  field
 *   0       le64 capacity (sectors)     36      le32 max_discard_sectors
 *   8       le32 size_max               40      le32 max_discard_seg
 *   12      le32 seg_max                44      le32 discard_sector_alignment
 *   16      geometry (zero: not offered) 48     le32 max_write_zeroes_sectors
 *   20      le32 blk_size               52      le32 max_write_zeroes_seg
 *   24      u8 physical_block_exp       56      u8 write_zeroes_may_unmap
 *   25      u8 alignment_offset         57      u8 unused1[3]
 *   26      le16 min_io_size
 *   28      le32 opt_io_size
 *   32      u8 writeback (CONFIG_WCE)
 *   34      le16 num_queues         60..71  secure-erase limits (zero: not offered)
 * </pre>
 *
 * Only {@code writeback} is writable by the driver, and only with CONFIG_WCE (section 5.2.5). Capacity changes
 * when the image grows. Values the device relies on are kept as Java fields too, so validation never reads
 * the shared bytes.
 */
public final class VirtioBlkConfig {
    /** Bytes of the configuration space (up to the secure-erase fields, which front-ends may ask for). */
    public static final int BYTES = 72;
    /** Offset of capacity. */
    public static final int CAPACITY = 0;
    /** Offset of writeback. */
    public static final int WRITEBACK = 32;

    private final MemorySegment bytes = Arena.ofAuto().allocate(BYTES, 8);
    private final BlkLimits limits;
    private volatile long capacitySectors;
    private volatile boolean writeback;

    /**
     * @param capacitySectors the device's size in 512-byte sectors
     * @param limits          segment, discard and write-zeroes limits
     * @param queues          request queues
     * @param writeback       start in writeback mode (false: writethrough)
     */
    public VirtioBlkConfig(final long capacitySectors, final BlkLimits limits, final int queues,
                           final boolean writeback) {
        this.limits = limits;
        bytes.set(LE_INT, 8, limits.sizeMaxBytes());
        bytes.set(LE_INT, 12, limits.segMax());
        bytes.set(LE_INT, 20, BlkRequestType.SECTOR_BYTES);
        bytes.set(ValueLayout.JAVA_BYTE, 24, (byte) 0);
        bytes.set(LE_SHORT, 26, (short) 1);
        bytes.set(LE_INT, 28, 0);
        bytes.set(LE_SHORT, 34, (short) queues);
        bytes.set(LE_INT, 36, limits.maxDiscardSectors());
        bytes.set(LE_INT, 40, limits.maxDiscardSegments());
        bytes.set(LE_INT, 44, limits.discardAlignmentSectors());
        bytes.set(LE_INT, 48, limits.maxWriteZeroesSectors());
        bytes.set(LE_INT, 52, limits.maxWriteZeroesSegments());
        bytes.set(ValueLayout.JAVA_BYTE, 56, (byte) 1);
        capacitySectors(capacitySectors);
        writeback(writeback);
    }

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** @return the limits requests are checked against */
    public BlkLimits limits() {
        return limits;
    }

    /** @return the capacity in sectors */
    public long capacitySectors() {
        return capacitySectors;
    }

    /** Sets the capacity (the image grew or shrank); the transport tells the driver with a config interrupt. */
    public void capacitySectors(final long sectors) {
        capacitySectors = sectors;
        bytes.set(ValueLayout.JAVA_LONG_UNALIGNED, CAPACITY, sectors);
    }

    /** @return true in writeback mode: writes complete before they are durable, FLUSH makes them so */
    public boolean writeback() {
        return writeback;
    }

    /** Switches between writeback and writethrough. */
    public void writeback(final boolean enabled) {
        writeback = enabled;
        bytes.set(ValueLayout.JAVA_BYTE, WRITEBACK, (byte) (enabled ? 1 : 0));
    }

    /** @return num_queues */
    public int numQueues() {
        return Short.toUnsignedInt(bytes.get(LE_SHORT, 34));
    }

    /** Copies {@code destination.byteSize()} bytes from {@code offset}; bytes past the end read as zero. */
    public void read(final long offset, final MemorySegment destination) {
        destination.fill((byte) 0);
        if (offset < 0 || offset >= BYTES) {
            return;
        }
        final long length = Math.min(destination.byteSize(), BYTES - offset);
        MemorySegment.copy(bytes, offset, destination, 0, length);
    }

    /**
     * Applies a driver's write: only the writeback byte takes effect, and only when CONFIG_WCE was negotiated.
     *
     * @return false if the write touched nothing writable
     */
    public boolean write(final long offset, final MemorySegment source, final boolean wceNegotiated) {
        if (!wceNegotiated || offset > WRITEBACK || offset + source.byteSize() <= WRITEBACK) {
            return false;
        }
        final byte value = source.get(ValueLayout.JAVA_BYTE, WRITEBACK - offset);
        if (value != 0 && value != 1) {
            return false;
        }
        writeback(value == 1);
        return true;
    }
}

package io.vioplane.virtioblk.testkit;

import io.vioplane.virtioblk.BlkRefusal;
import io.vioplane.virtioblk.BlkRequestType;

import java.util.List;
import java.util.function.Consumer;

/**
 * The catalogue of hostile virtio-blk requests: each builds a chain through a {@link BlkDriver} for a device of
 * {@link #CAPACITY_SECTORS} sectors with {@link io.vioplane.virtioblk.BlkLimits#DEFAULT} limits (discard alignment
 * {@link #DISCARD_ALIGNMENT}, at most 2^16 sectors per DISCARD / WRITE_ZEROES range), and names the refusal and
 * status it must get. Shared by the unit suite and the vhost-user suite ({@code HostileBlkFrontEndTest}).
 */
public final class HostileBlkRequests {
    /** The capacity the catalogue assumes. */
    public static final long CAPACITY_SECTORS = 2048;
    /** The discard alignment the catalogue assumes. */
    public static final int DISCARD_ALIGNMENT = 8;

    /**
     * One attack.
     *
     * @param name    what the guest does
     * @param build   builds and leaves the chain ready for submit
     * @param refusal what the device must count
     * @param status  what the status byte must say ({@link BlkDriver#UNTOUCHED} when there is none)
     */
    public record Attack(String name, Consumer<BlkDriver> build, BlkRefusal refusal, byte status) {
        @Override
        public String toString() {
            return name;
        }
    }

    private HostileBlkRequests() {
    }

    private static Consumer<BlkDriver> write(final long sector, final int bytes) {
        return blk -> blk.header(BlkRequestType.OUT, sector).readable(blk.allocate(bytes), bytes).status();
    }

    /** @return every attack */
    public static List<Attack> all() {
        final byte ioerr = BlkRequestType.S_IOERR;
        final byte unsupp = BlkRequestType.S_UNSUPP;
        return List.of(
                new Attack("writePastCapacity", write(CAPACITY_SECTORS - 1, 1024), BlkRefusal.BEYOND_CAPACITY, ioerr),
                new Attack("writeStartingPastCapacity", write(CAPACITY_SECTORS + 8, 512), BlkRefusal.BEYOND_CAPACITY,
                        ioerr),
                new Attack("sectorOverflowsWhenShifted", write(Long.MAX_VALUE / 256, 512), BlkRefusal.BEYOND_CAPACITY,
                        ioerr),
                new Attack("sectorNegativeAsSigned", write(-8, 4096), BlkRefusal.BEYOND_CAPACITY, ioerr),
                new Attack("readPastCapacity", blk -> blk.header(BlkRequestType.IN, CAPACITY_SECTORS - 1)
                        .writable(blk.allocate(1024), 1024).status(), BlkRefusal.BEYOND_CAPACITY, ioerr),
                new Attack("writeOfPartialSector", write(0, 700), BlkRefusal.NOT_SECTOR_MULTIPLE, ioerr),
                new Attack("readWithReadableDataSegment", blk -> blk.header(BlkRequestType.IN, 0)
                        .readable(blk.allocate(512), 512).status(), BlkRefusal.WRONG_DIRECTION, ioerr),
                new Attack("writeWithWritableDataSegment", blk -> blk.header(BlkRequestType.OUT, 0)
                        .writable(blk.allocate(512), 512).status(), BlkRefusal.WRONG_DIRECTION, ioerr),
                new Attack("flushCarryingData", blk -> blk.header(BlkRequestType.FLUSH, 0)
                        .readable(blk.allocate(512), 512).status(), BlkRefusal.WRONG_DIRECTION, ioerr),
                new Attack("statusMissing", blk -> blk.header(BlkRequestType.OUT, 0).readable(blk.allocate(512), 512)
                        .readable(blk.allocate(1), 1), BlkRefusal.STATUS_MISSING, BlkDriver.UNTOUCHED),
                new Attack("statusDescriptorAbsent", blk -> blk.header(BlkRequestType.OUT, 0)
                        .readable(blk.allocate(512), 512), BlkRefusal.STATUS_MISSING, BlkDriver.UNTOUCHED),
                new Attack("headerShort", blk -> blk.readable(blk.allocate(8), 8).status(), BlkRefusal.HEADER_SHORT,
                        ioerr),
                new Attack("getIdBufferShort", blk -> blk.header(BlkRequestType.GET_ID, 0)
                        .writable(blk.allocate(8), 8).status(), BlkRefusal.ID_BUFFER_SHORT, ioerr),
                new Attack("unknownRequestType", blk -> blk.header(99, 0).status(), BlkRefusal.UNSUPPORTED_TYPE, unsupp),
                new Attack("discardAboveSegmentLimit", blk -> {
                    blk.header(BlkRequestType.DISCARD, 0);
                    for (int i = 0; i < 17; i++) {
                        blk.range(8L * i, 8, 0);
                    }
                    blk.status();
                }, BlkRefusal.TOO_MANY_RANGES, ioerr),
                new Attack("discardPastCapacity", blk -> blk.header(BlkRequestType.DISCARD, 0)
                        .range(CAPACITY_SECTORS - 8, 16, 0).status(), BlkRefusal.BEYOND_CAPACITY, ioerr),
                new Attack("discardRangeOverflows", blk -> blk.header(BlkRequestType.DISCARD, 0)
                        .range(-8, 16, 0).status(), BlkRefusal.BEYOND_CAPACITY, ioerr),
                new Attack("discardMisaligned", blk -> blk.header(BlkRequestType.DISCARD, 0).range(3, 8, 0).status(),
                        BlkRefusal.RANGE_MISALIGNED, ioerr),
                new Attack("discardEmptyRange", blk -> blk.header(BlkRequestType.DISCARD, 0).range(8, 0, 0).status(),
                        BlkRefusal.RANGE_TOO_LARGE, ioerr),
                new Attack("discardRangesOverlap", blk -> blk.header(BlkRequestType.DISCARD, 0).range(0, 64, 0)
                        .range(32, 64, 0).status(), BlkRefusal.RANGES_OVERLAP, ioerr),
                new Attack("writeZeroesRangesOverlap", blk -> blk.header(BlkRequestType.WRITE_ZEROES, 0)
                        .range(64, 64, 0).range(0, 65, 0).status(), BlkRefusal.RANGES_OVERLAP, ioerr),
                new Attack("discardRangeAboveSectorLimit", blk -> blk.header(BlkRequestType.DISCARD, 0)
                        .range(0, (1 << 16) + 8, 0).status(), BlkRefusal.RANGE_TOO_LARGE, ioerr),
                new Attack("getIdWithReadableBuffer", blk -> blk.header(BlkRequestType.GET_ID, 0)
                        .readable(blk.allocate(20), 20).status(), BlkRefusal.WRONG_DIRECTION, ioerr),
                new Attack("discardWithUnmapFlag", blk -> blk.header(BlkRequestType.DISCARD, 0)
                        .range(0, 8, BlkRequestType.RANGE_FLAG_UNMAP).status(), BlkRefusal.RANGE_FLAGS, unsupp),
                new Attack("writeZeroesUnknownFlag", blk -> blk.header(BlkRequestType.WRITE_ZEROES, 0)
                        .range(0, 8, 4).status(), BlkRefusal.RANGE_FLAGS, unsupp),
                new Attack("discardPayloadNotWholeRanges", blk -> blk.header(BlkRequestType.DISCARD, 0)
                        .readable(blk.allocate(12), 12).status(), BlkRefusal.MALFORMED_RANGES, ioerr),
                new Attack("segmentAboveSizeMax", write(0, 2 << 20), BlkRefusal.SEGMENT_TOO_LARGE, ioerr),
                new Attack("moreSegmentsThanSegMax", blk -> {
                    blk.header(BlkRequestType.OUT, 0);
                    for (int i = 0; i < 127; i++) {
                        blk.readable(blk.allocate(512), 512);
                    }
                    blk.status();
                }, BlkRefusal.TOO_MANY_SEGMENTS, ioerr));
    }
}

package io.vioplane.virtioblk;

import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.VirtioFeature;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Checks a virtio-blk request chain before any I/O (VIRTIO 1.x sections 5.2.6 and 5.2.6.1), one rule at a time:
 *
 * <pre>
 *   rule                                                    refusal             status
 *   a writable byte exists (the status is the last one)     STATUS_MISSING      none written
 *   at least 16 readable header bytes                       HEADER_SHORT        IOERR
 *   segments &lt;= seg_max + 2 (header and status)            TOO_MANY_SEGMENTS   IOERR
 *   each segment &lt;= size_max                                SEGMENT_TOO_LARGE   IOERR
 *   type known and negotiated                               UNSUPPORTED_TYPE    UNSUPP
 *   IN: 16 readable bytes exactly; OUT, FLUSH, DISCARD,
 *     WRITE_ZEROES: 1 writable byte exactly; GET_ID and
 *     FLUSH: 16 readable exactly                            WRONG_DIRECTION     IOERR
 *   OUT / DISCARD / WRITE_ZEROES on a read-only device       READ_ONLY           IOERR
 *   IN / OUT data a multiple of 512                         NOT_SECTOR_MULTIPLE IOERR
 *   sector + data sectors &lt;= capacity, without overflow     BEYOND_CAPACITY     IOERR
 *   GET_ID: at least 20 writable data bytes                 ID_BUFFER_SHORT     IOERR
 *   ranges: whole 16-byte ranges, 1..max_*_seg of them      MALFORMED_RANGES / TOO_MANY_RANGES
 *   each range: flags known (no UNMAP on DISCARD)           RANGE_FLAGS         UNSUPP
 *   each range: 1..max_*_sectors long                       RANGE_TOO_LARGE     IOERR
 *   each DISCARD range aligned to discard_sector_alignment  RANGE_MISALIGNED    IOERR
 *   each range inside the capacity; ranges disjoint         BEYOND_CAPACITY / RANGES_OVERLAP
 * </pre>
 *
 * Each guest value is read once into a local, then checked. Nothing is allocated per request.
 */
public final class BlkRequestValidator {
    private final MemorySegment scratch = Arena.ofAuto().allocate(BlkRequestType.HEADER_BYTES, 8);
    private final BlkLimits limits;

    /** @param limits what the configuration announced */
    public BlkRequestValidator(final BlkLimits limits) {
        this.limits = limits;
    }

    /**
     * Fills {@code request} from {@code chain}.
     *
     * @param capacitySectors the capacity now
     * @param features        the negotiated features
     * @param readOnly        the device refuses modifications
     * @return null if the request may be executed, otherwise why not ({@code request}'s status location is set
     *     whenever the chain has one)
     */
    public BlkRefusal check(final DescriptorChain chain, final BlkRequest request, final long capacitySectors,
                            final long features, final boolean readOnly) {
        request.locateStatus(chain);
        request.rangeCount = 0;
        request.dataBytes = 0;
        if (!request.hasStatus()) {
            return BlkRefusal.STATUS_MISSING;
        }
        if (chain.readableBytes() < BlkRequestType.HEADER_BYTES) {
            return BlkRefusal.HEADER_SHORT;
        }
        if (chain.segmentCount() > limits.segMax() + 2) {
            return BlkRefusal.TOO_MANY_SEGMENTS;
        }
        for (int i = 0; i < chain.segmentCount(); i++) {
            if (chain.segmentLength(i) > limits.sizeMaxBytes()) {
                return BlkRefusal.SEGMENT_TOO_LARGE;
            }
        }
        chain.copyFromReadable(0, scratch, 0, BlkRequestType.HEADER_BYTES);
        final int type = scratch.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        final long sector = scratch.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        request.type = type;
        request.sector = sector;
        final long readable = chain.readableBytes();
        final long writable = chain.writableBytes();
        return switch (type) {
            case BlkRequestType.IN -> readable != BlkRequestType.HEADER_BYTES ? BlkRefusal.WRONG_DIRECTION
                    : checkData(request, sector, writable - 1, capacitySectors);
            case BlkRequestType.OUT -> writable != 1 ? BlkRefusal.WRONG_DIRECTION
                    : readOnly ? BlkRefusal.READ_ONLY
                    : checkData(request, sector, readable - BlkRequestType.HEADER_BYTES, capacitySectors);
            case BlkRequestType.FLUSH -> readable != BlkRequestType.HEADER_BYTES || writable != 1
                    ? BlkRefusal.WRONG_DIRECTION : null;
            case BlkRequestType.GET_ID -> readable != BlkRequestType.HEADER_BYTES ? BlkRefusal.WRONG_DIRECTION
                    : writable - 1 < BlkRequestType.ID_BYTES ? BlkRefusal.ID_BUFFER_SHORT : null;
            case BlkRequestType.DISCARD -> !VirtioFeature.has(features, VirtioBlkFeature.DISCARD)
                    ? BlkRefusal.UNSUPPORTED_TYPE
                    : checkRanges(chain, request, true, capacitySectors, readOnly);
            case BlkRequestType.WRITE_ZEROES -> !VirtioFeature.has(features, VirtioBlkFeature.WRITE_ZEROES)
                    ? BlkRefusal.UNSUPPORTED_TYPE
                    : checkRanges(chain, request, false, capacitySectors, readOnly);
            default -> BlkRefusal.UNSUPPORTED_TYPE;
        };
    }

    private static BlkRefusal checkData(final BlkRequest request, final long sector, final long dataBytes,
                                        final long capacitySectors) {
        if ((dataBytes & (BlkRequestType.SECTOR_BYTES - 1)) != 0) {
            return BlkRefusal.NOT_SECTOR_MULTIPLE;
        }
        if (!inCapacity(sector, dataBytes >>> BlkRequestType.SECTOR_SHIFT, capacitySectors)) {
            return BlkRefusal.BEYOND_CAPACITY;
        }
        request.dataBytes = dataBytes;
        return null;
    }

    private static boolean inCapacity(final long sector, final long sectors, final long capacitySectors) {
        return sector >= 0 && sector <= capacitySectors && sectors <= capacitySectors - sector;
    }

    private BlkRefusal checkRanges(final DescriptorChain chain, final BlkRequest request, final boolean discard,
                                   final long capacitySectors, final boolean readOnly) {
        if (chain.writableBytes() != 1) {
            return BlkRefusal.WRONG_DIRECTION;
        }
        if (readOnly) {
            return BlkRefusal.READ_ONLY;
        }
        final long payload = chain.readableBytes() - BlkRequestType.HEADER_BYTES;
        if (payload == 0 || payload % BlkRequestType.RANGE_BYTES != 0) {
            return BlkRefusal.MALFORMED_RANGES;
        }
        final long count = payload / BlkRequestType.RANGE_BYTES;
        final int maxRanges = discard ? limits.maxDiscardSegments() : limits.maxWriteZeroesSegments();
        if (count > maxRanges || count > request.rangeSector.length) {
            return BlkRefusal.TOO_MANY_RANGES;
        }
        final long maxSectors = Integer.toUnsignedLong(discard ? limits.maxDiscardSectors()
                : limits.maxWriteZeroesSectors());
        final int alignment = discard ? limits.discardAlignmentSectors() : 1;
        for (int i = 0; i < (int) count; i++) {
            chain.copyFromReadable(BlkRequestType.HEADER_BYTES + (long) i * BlkRequestType.RANGE_BYTES, scratch, 0,
                    BlkRequestType.RANGE_BYTES);
            final long sector = scratch.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            final int sectorsField = scratch.get(ValueLayout.JAVA_INT_UNALIGNED, 8);
            final int flags = scratch.get(ValueLayout.JAVA_INT_UNALIGNED, 12);
            final long sectors = Integer.toUnsignedLong(sectorsField);
            final int allowedFlags = discard ? 0 : BlkRequestType.RANGE_FLAG_UNMAP;
            if ((flags & ~allowedFlags) != 0) {
                return BlkRefusal.RANGE_FLAGS;
            }
            if (sectors == 0 || sectors > maxSectors) {
                return BlkRefusal.RANGE_TOO_LARGE;
            }
            if (Long.remainderUnsigned(sector, alignment) != 0 || sectors % alignment != 0) {
                return BlkRefusal.RANGE_MISALIGNED;
            }
            if (!inCapacity(sector, sectors, capacitySectors)) {
                return BlkRefusal.BEYOND_CAPACITY;
            }
            for (int j = 0; j < i; j++) {
                if (sector < request.rangeSector[j] + Integer.toUnsignedLong(request.rangeSectors[j])
                        && request.rangeSector[j] < sector + sectors) {
                    return BlkRefusal.RANGES_OVERLAP;
                }
            }
            request.rangeSector[i] = sector;
            request.rangeSectors[i] = sectorsField;
            request.rangeFlags[i] = flags;
        }
        request.rangeCount = (int) count;
        return null;
    }
}

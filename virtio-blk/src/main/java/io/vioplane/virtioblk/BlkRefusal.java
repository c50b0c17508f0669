package io.vioplane.virtioblk;

import io.vioplane.platform.runtime.CounterKind;

/**
 * Why a virtio-blk request was refused, each with the status the driver gets (VIRTIO 1.x section 5.2.6.1 and
 * 5.2.6.2) and a sentence naming who was at fault. A refused request's chain is returned used with only its
 * status byte written (or nothing, when there is no place for a status).
 */
public enum BlkRefusal implements CounterKind {
    /** The chain has no device-writable byte for the status. */
    STATUS_MISSING(BlkRequestType.S_IOERR, "guest gave a request without a writable status byte"),
    /** The header is shorter than 16 readable bytes. */
    HEADER_SHORT(BlkRequestType.S_IOERR, "guest gave a request header shorter than 16 readable bytes"),
    /** More segments than seg_max allows. */
    TOO_MANY_SEGMENTS(BlkRequestType.S_IOERR, "guest gave more data segments than seg_max"),
    /** A segment longer than size_max. */
    SEGMENT_TOO_LARGE(BlkRequestType.S_IOERR, "guest gave a segment larger than size_max"),
    /** Data in the wrong direction for the request type (e.g. readable data for IN). */
    WRONG_DIRECTION(BlkRequestType.S_IOERR, "guest gave data segments of the wrong direction for the request type"),
    /** Data length not a multiple of 512. */
    NOT_SECTOR_MULTIPLE(BlkRequestType.S_IOERR, "guest gave a data length that is not a multiple of 512 bytes"),
    /** The sector range ends past the capacity (or overflows). */
    BEYOND_CAPACITY(BlkRequestType.S_IOERR, "guest asked for sectors beyond the device's capacity"),
    /** A write, discard or write-zeroes on a read-only device. */
    READ_ONLY(BlkRequestType.S_IOERR, "guest asked to modify a read-only device"),
    /** GET_ID with fewer than 20 writable data bytes. */
    ID_BUFFER_SHORT(BlkRequestType.S_IOERR, "guest gave a GET_ID buffer shorter than 20 bytes"),
    /** DISCARD / WRITE_ZEROES payload not a whole number of ranges, or empty. */
    MALFORMED_RANGES(BlkRequestType.S_IOERR, "guest gave a DISCARD/WRITE_ZEROES payload that is not whole ranges"),
    /** More ranges than max_discard_seg / max_write_zeroes_seg. */
    TOO_MANY_RANGES(BlkRequestType.S_IOERR, "guest gave more DISCARD/WRITE_ZEROES ranges than the device allows"),
    /** A range larger than max_discard_sectors / max_write_zeroes_sectors, or empty. */
    RANGE_TOO_LARGE(BlkRequestType.S_IOERR, "guest gave a DISCARD/WRITE_ZEROES range above the limit (or empty)"),
    /** A DISCARD range not aligned to discard_sector_alignment. */
    RANGE_MISALIGNED(BlkRequestType.S_IOERR, "guest gave a DISCARD range not aligned to discard_sector_alignment"),
    /** Two ranges of one request overlap. */
    RANGES_OVERLAP(BlkRequestType.S_IOERR, "guest gave overlapping DISCARD/WRITE_ZEROES ranges"),
    /** An unknown range flag, or UNMAP on a DISCARD. */
    RANGE_FLAGS(BlkRequestType.S_UNSUPP, "guest set an unknown range flag (or UNMAP on DISCARD)"),
    /** A type the device does not know or did not negotiate. */
    UNSUPPORTED_TYPE(BlkRequestType.S_UNSUPP, "guest sent a request type the device does not support");

    private final byte status;
    private final String description;

    BlkRefusal(final byte status, final String description) {
        this.status = status;
        this.description = description;
    }

    /** @return the status byte the driver gets */
    public byte status() {
        return status;
    }

    /** @return who did what */
    public String description() {
        return description;
    }

    @Override
    public String label() {
        return "refused: " + description;
    }
}

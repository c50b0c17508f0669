package io.vioplane.virtioblk;

/**
 * The request types of the header's {@code type} field and the status values of a request's last byte
 * (VIRTIO 1.x section 5.2.6).
 *
 * <pre>
 *   struct virtio_blk_req {          offset
 *       le32 type;                   0
 *       le32 reserved;               4   (ioprio)
 *       le64 sector;                 8   (512-byte units)
 *       u8   data[];                 16  (device-readable for OUT, device-writable for IN and GET_ID)
 *       u8   status;                 last device-writable byte
 *   };
 * </pre>
 */
public final class BlkRequestType {
    /** Bytes of the request header. */
    public static final int HEADER_BYTES = 16;
    /** The unit of {@code sector} and of data lengths. */
    public static final int SECTOR_BYTES = 512;
    /** log2 of {@link #SECTOR_BYTES}. */
    public static final int SECTOR_SHIFT = 9;
    /** Bytes of a GET_ID answer. */
    public static final int ID_BYTES = 20;
    /** Bytes of one DISCARD / WRITE_ZEROES range: le64 sector, le32 num_sectors, le32 flags. */
    public static final int RANGE_BYTES = 16;
    /** The unmap flag of a WRITE_ZEROES range. */
    public static final int RANGE_FLAG_UNMAP = 1;

    /** Read from the device. */
    public static final int IN = 0;
    /** Write to the device. */
    public static final int OUT = 1;
    /** Make every completed write durable. */
    public static final int FLUSH = 4;
    /** Read the device's serial. */
    public static final int GET_ID = 8;
    /** Deallocate ranges. */
    public static final int DISCARD = 11;
    /** Zero ranges (and deallocate them with the unmap flag). */
    public static final int WRITE_ZEROES = 13;

    /** Success. */
    public static final byte S_OK = 0;
    /** The request failed or was malformed. */
    public static final byte S_IOERR = 1;
    /** The request type or a flag is not supported. */
    public static final byte S_UNSUPP = 2;

    private BlkRequestType() {
    }

    /** @return the type's name for logs */
    public static String name(final int type) {
        return switch (type) {
            case IN -> "IN";
            case OUT -> "OUT";
            case FLUSH -> "FLUSH";
            case GET_ID -> "GET_ID";
            case DISCARD -> "DISCARD";
            case WRITE_ZEROES -> "WRITE_ZEROES";
            default -> "type " + Integer.toUnsignedString(type);
        };
    }
}

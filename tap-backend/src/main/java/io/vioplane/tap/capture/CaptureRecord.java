package io.vioplane.tap.capture;

/**
 * The layout of one capture record, in the ring and in the journal (all little-endian):
 *
 * <pre>
 *   0   i64  timestamp, nanoseconds since the epoch
 *   8   u16  port id (see the journal's port names)
 *   10  u8   direction: 1 = into the port's peer (toward a guest or TAP), 2 = out of it
 *   11  u8   reserved
 *   12  u32  original frame length
 *   16  ...  captured bytes (at most the snap length)
 * </pre>
 */
public final class CaptureRecord {
    public static final int TIMESTAMP = 0;
    public static final int PORT = 8;
    public static final int DIRECTION = 10;
    public static final int ORIGINAL_LENGTH = 12;
    public static final int DATA = 16;
    /** A frame the port received from its peer (a guest transmitted it, the TAP read it). */
    public static final int DIRECTION_IN = 1;
    /** A frame the port delivered to its peer (into a guest, written to the TAP). */
    public static final int DIRECTION_OUT = 2;
    /** Agrona message type id of a capture record. */
    public static final int MESSAGE_TYPE = 1;
    /** Agrona message type id of a port-name record: u16 id, then the name in UTF-8. */
    public static final int PORT_NAME_TYPE = 2;

    private CaptureRecord() {
    }
}

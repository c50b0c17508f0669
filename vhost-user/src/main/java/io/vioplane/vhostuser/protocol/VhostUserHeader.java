package io.vioplane.vhostuser.protocol;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

/**
 * The 12-byte vhost-user message header and the limits of a message (QEMU {@code docs/interop/vhost-user.rst},
 * "Message Specification"). All fields are in the host's native byte order.
 *
 * <pre>
 *   0  u32 request
 *   4  u32 flags     bits 0-1 version (1), bit 2 REPLY, bit 3 NEED_REPLY, others reserved
 *   8  u32 size      payload bytes that follow
 *  12  payload[size]
 * </pre>
 */
public final class VhostUserHeader {
    public static final int REQUEST_OFFSET = 0;
    public static final int FLAGS_OFFSET = 4;
    public static final int SIZE_OFFSET = 8;
    public static final int HEADER_BYTES = 12;

    /** The protocol version in bits 0-1 of the flags. */
    public static final int VERSION = 0x1;
    public static final int VERSION_MASK = 0x3;
    /** Set on every reply. */
    public static final int FLAG_REPLY = 0x4;
    /** The sender wants an acknowledgement (REPLY_ACK). */
    public static final int FLAG_NEED_REPLY = 0x8;

    /** Largest device configuration space a config payload may carry (QEMU's VHOST_USER_MAX_CONFIG_SIZE). */
    public static final int MAX_CONFIG_BYTES = 256;
    /** Bytes of the config payload before the data: u32 offset, u32 size, u32 flags. */
    public static final int CONFIG_HEADER_BYTES = 12;
    /**
     * The largest payload accepted: 4 KiB plus a full config payload. Every message the spec defines fits (the
     * largest, a memory table of 8 regions, is 264 bytes); a larger size field ends the connection before anything
     * more is read.
     */
    public static final int MAX_PAYLOAD_BYTES = 4096 + CONFIG_HEADER_BYTES + MAX_CONFIG_BYTES;
    /** Most descriptors one message may carry. */
    public static final int MAX_FDS = 8;

    private VhostUserHeader() {
    }

    /** @return the request id in the header at the start of {@code header} */
    public static int request(final MemorySegment header) {
        return header.get(JAVA_INT_UNALIGNED, REQUEST_OFFSET);
    }

    /** @return the flags in the header at the start of {@code header} */
    public static int flags(final MemorySegment header) {
        return header.get(JAVA_INT_UNALIGNED, FLAGS_OFFSET);
    }

    /** @return the payload size (unsigned, as a long) in the header at the start of {@code header} */
    public static long size(final MemorySegment header) {
        return Integer.toUnsignedLong(header.get(JAVA_INT_UNALIGNED, SIZE_OFFSET));
    }

    /** Writes a header at the start of {@code header}. */
    public static void write(final MemorySegment header, final int request, final int flags, final int size) {
        header.set(JAVA_INT_UNALIGNED, REQUEST_OFFSET, request);
        header.set(JAVA_INT_UNALIGNED, FLAGS_OFFSET, flags);
        header.set(JAVA_INT_UNALIGNED, SIZE_OFFSET, size);
    }

    /** @return true if {@code flags} carry protocol version 1 */
    public static boolean hasVersion1(final int flags) {
        return (flags & VERSION_MASK) == VERSION;
    }
}

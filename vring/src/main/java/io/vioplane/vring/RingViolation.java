package io.vioplane.vring;

/**
 * The ways a driver can break a virtqueue's protocol. Each one breaks the queue (the device stops using
 * it and sets DEVICE_NEEDS_RESET, VIRTIO 1.x section 2.1.2) because a device cannot tell which of the
 * driver's later buffers are still meaningful.
 *
 * <p>Requests that are well-formed rings but wrong for the device (a TX chain with no readable bytes, a
 * block request without a status byte) are not violations: the device drops and counts them.
 */
public enum RingViolation {
    /** The available index moved more than the queue size past the device's position (split). */
    AVAIL_INDEX_JUMP("available index jumped more than the queue size ahead"),
    /** A chain's head index (split) or buffer id (packed) is not below the queue size. */
    HEAD_OUT_OF_RANGE("descriptor chain head out of range"),
    /** A descriptor's next index is not below the queue size or the indirect table length. */
    NEXT_OUT_OF_RANGE("descriptor next index out of range"),
    /** The chain is longer than the queue size or its indirect table: a loop. */
    CHAIN_LOOP("descriptor chain longer than the queue (a loop)"),
    /** The chain has more segments than the device accepts. */
    CHAIN_TOO_LONG("descriptor chain has more segments than the device accepts"),
    /** The chain's buffers add up to more than 2^32 bytes. */
    CHAIN_TOO_LARGE("descriptor chain longer than 2^32 bytes"),
    /** A device-readable descriptor follows a device-writable one. */
    READABLE_AFTER_WRITABLE("device-readable descriptor after a device-writable one"),
    /** A descriptor's buffer is not wholly inside guest memory, or wraps the address space. */
    BUFFER_OUT_OF_RANGE("descriptor buffer outside guest memory"),
    /** INDIRECT is set but VIRTIO_F_INDIRECT_DESC was not negotiated. */
    INDIRECT_NOT_NEGOTIATED("indirect descriptor without VIRTIO_F_INDIRECT_DESC"),
    /** An indirect table contains an INDIRECT descriptor. */
    INDIRECT_NESTED("indirect descriptor inside an indirect table"),
    /** A descriptor has both INDIRECT and NEXT (split), or an indirect one follows NEXT (packed). */
    INDIRECT_WITH_NEXT("indirect descriptor combined with NEXT"),
    /** An indirect table's length is 0 or not a multiple of 16. */
    INDIRECT_BAD_LENGTH("indirect table length 0 or not a multiple of 16"),
    /** An indirect table is not wholly inside guest memory. */
    INDIRECT_OUT_OF_RANGE("indirect table outside guest memory"),
    /** A packed descriptor in the middle of a chain is not available in the current wrap (packed). */
    PACKED_CHAIN_NOT_AVAILABLE("packed chain continues into a descriptor that is not available"),
    /** The device was asked to use more buffers than were made available. */
    USED_MORE_THAN_AVAILABLE("more buffers used than were made available");

    private final String description;

    RingViolation(final String description) {
        this.description = description;
    }

    /** @return what the driver did, for logs ("guest gave us ...") */
    public String description() {
        return description;
    }
}

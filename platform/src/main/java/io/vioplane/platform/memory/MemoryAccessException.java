package io.vioplane.platform.memory;

import java.io.Serial;

/**
 * A device tried to use a range of guest (or I/O virtual) memory that it may not: the range is outside
 * every region, wraps the address space, straddles regions, is misaligned for an atomic access, or is not
 * permitted for the access mode.
 *
 * <p>Carries no stack trace: a hostile guest can cause these at packet rate, and the data path turns them
 * into counted drops or a broken queue, not into logs of frames.
 */
public final class MemoryAccessException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Why an access was refused. */
    public enum Reason {
        /** No region contains the address, or the range runs past the end of its region. */
        OUT_OF_RANGE,
        /** address + length wraps around 2^64, or the length is negative. */
        OVERFLOW,
        /** The range starts in one region and ends in another, and the caller asked for one segment. */
        CROSSES_REGIONS,
        /** An atomic (acquire/release) access is not aligned to its size. */
        MISALIGNED,
        /** The translation forbids this access mode (an IOMMU permission, a read-only region). */
        DENIED,
        /**
         * An IOMMU has no translation for the address yet and has asked for one (a device-IOTLB miss, PCIe ATS
         * or vhost-user's IOTLB_MSG): the device retries the same access once the translation arrives.
         */
        TRANSLATION_PENDING
    }

    private final Reason reason;
    private final long address;
    private final long lengthBytes;

    /**
     * @param reason      why the access was refused
     * @param address     the first address of the access
     * @param lengthBytes how many bytes the access covers
     * @param detail      what was being accessed, for the message
     */
    public MemoryAccessException(final Reason reason, final long address, final long lengthBytes, final String detail) {
        super(describe(reason, address, lengthBytes, detail), null, false, false);
        this.reason = reason;
        this.address = address;
        this.lengthBytes = lengthBytes;
    }

    private static String describe(final Reason reason, final long address, final long lengthBytes, final String detail) {
        final String base = switch (reason) {
            case OUT_OF_RANGE -> "outside guest memory";
            case OVERFLOW -> "wraps the address space";
            case CROSSES_REGIONS -> "crosses a memory region boundary";
            case MISALIGNED -> "misaligned for an atomic access";
            case DENIED -> "access denied";
            case TRANSLATION_PENDING -> "no translation yet (requested)";
        };
        return base + ": [0x" + Long.toHexString(address) + ", +" + lengthBytes + ")" + (detail.isEmpty() ? "" : " " + detail);
    }

    /** @return why the access was refused */
    public Reason reason() {
        return reason;
    }

    /** @return the first address of the refused access */
    public long address() {
        return address;
    }

    /** @return the length of the refused access in bytes */
    public long lengthBytes() {
        return lengthBytes;
    }
}

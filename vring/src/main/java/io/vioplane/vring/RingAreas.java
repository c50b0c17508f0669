package io.vioplane.vring;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;

import java.lang.foreign.MemorySegment;

/**
 * Checks and maps a ring area once, when a queue is enabled: aligned as its layout requires and wholly inside
 * one guest-memory region. The segment it returns is then indexed with masked ring positions only, so the
 * data path needs no further checks on ring memory.
 */
public final class RingAreas {
    private RingAreas() {
    }

    /**
     * @param name       which area, for the message ("descriptor table", "used ring")
     * @param gpa        where the driver put it
     * @param sizeBytes  how large the layout makes it
     * @param alignment  the alignment the layout requires (a power of two)
     * @return a segment of exactly the area
     * @throws QueueConfigException MISALIGNED or OUT_OF_RANGE
     */
    public static MemorySegment map(final DmaSpace memory, final String name, final long gpa, final long sizeBytes,
                                    final int alignment, final AccessMode mode) {
        if ((gpa & (alignment - 1)) != 0) {
            throw new QueueConfigException(QueueConfigException.Reason.MISALIGNED, name + " at 0x" + Long.toHexString(gpa)
                    + " is not " + alignment + "-byte aligned");
        }
        try {
            return memory.translate(gpa, sizeBytes, mode);
        } catch (MemoryAccessException e) {
            throw new QueueConfigException(QueueConfigException.Reason.OUT_OF_RANGE, name + " of " + sizeBytes
                    + " bytes at 0x" + Long.toHexString(gpa) + " is not inside one guest-memory region: " + e.getMessage());
        }
    }

    /**
     * @throws QueueConfigException BAD_SIZE unless {@code 1 <= size <= 32768} and, if required, a power of two
     */
    public static void checkSize(final int size, final boolean powerOfTwo) {
        if (size < 1 || size > QueueConfig.MAX_SIZE || (powerOfTwo && Integer.bitCount(size) != 1)) {
            throw new QueueConfigException(QueueConfigException.Reason.BAD_SIZE, "queue size " + size + " must be 1.."
                    + QueueConfig.MAX_SIZE + (powerOfTwo ? " and a power of two" : ""));
        }
    }
}

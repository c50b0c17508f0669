package io.vioplane.iommu;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.platform.memory.MemoryAccessException;

import java.lang.foreign.MemorySegment;

/**
 * The posted-interrupt descriptor, a 64-byte aligned structure in guest memory shared by the IOMMU (which posts)
 * and the processor (which moves PIR into the virtual APIC): VT-d 3.x section 9.12, Intel SDM Vol. 3C section 30.6.
 *
 * <pre>
 *   bits 255..0    PIR: one request bit per vector
 *   bit  256       ON: outstanding notification
 *   bit  257       SN: suppress notification
 *   bits 279..272  NV: notification vector
 *   bits 319..288  NDST: notification destination (APIC id)
 * </pre>
 *
 * <p>Posting is lock-free against the processor: the PIR bit is set with an atomic OR, then ON with a
 * compare-and-set on the control quadword, and a notification is due only to the poster that turned ON from 0 to
 * 1 while SN was 0 (or the IRTE is urgent). Static methods over a {@link DmaSpace}: nothing is cached, every field
 * is read at the moment it is used.
 */
public final class PostedInterruptDescriptor {
    /** Size and alignment of a descriptor in bytes. */
    public static final int SIZE_BYTES = 64;
    /** Offset of the control quadword (ON, SN, NV, NDST). */
    public static final int CONTROL_OFFSET = 32;
    /** Returned by {@link #post} when no notification is due. */
    public static final long NO_NOTIFICATION = -1;
    /** Control bit: outstanding notification. */
    public static final long ON = 1;
    /** Control bit: suppress notification. */
    public static final long SN = 2;

    private PostedInterruptDescriptor() {
    }

    /**
     * Posts {@code vector} into the descriptor at {@code descriptorGpa}.
     *
     * @param urgent notify even if SN is set (IRTE URG)
     * @return the control quadword after ON was set by this post (read NV and NDST from it), or
     *     {@link #NO_NOTIFICATION}
     * @throws MemoryAccessException if the descriptor is not wholly in guest memory
     */
    public static long post(final DmaSpace memory, final long descriptorGpa, final int vector, final boolean urgent) {
        final MemorySegment descriptor = descriptor(memory, descriptorGpa);
        final long bit = 1L << (vector & 63);
        LittleEndian.U64_ATOMIC.getAndBitwiseOr(descriptor, 8L * ((vector & 0xFF) >>> 6), bit);
        while (true) {
            final long control = (long) LittleEndian.U64_ATOMIC.getVolatile(descriptor, (long) CONTROL_OFFSET);
            if ((control & ON) != 0 || (control & SN) != 0 && !urgent) {
                return NO_NOTIFICATION;
            }
            if (LittleEndian.U64_ATOMIC.compareAndSet(descriptor, (long) CONTROL_OFFSET, control, control | ON)) {
                return control | ON;
            }
        }
    }

    /** @return the notification vector of a control quadword */
    public static int notificationVector(final long control) {
        return (int) (control >>> 16) & 0xFF;
    }

    /** @return the notification destination of a control quadword */
    public static int notificationDestination(final long control) {
        return (int) (control >>> 32);
    }

    /** @return true if {@code vector}'s PIR bit is set */
    public static boolean pending(final DmaSpace memory, final long descriptorGpa, final int vector) {
        final long word = (long) LittleEndian.U64_ATOMIC.getVolatile(descriptor(memory, descriptorGpa),
                8L * ((vector & 0xFF) >>> 6));
        return (word & 1L << (vector & 63)) != 0;
    }

    /**
     * The processor's side: takes the 64 PIR bits of vectors {@code 64 * word .. 64 * word + 63}, clearing them.
     *
     * @param word 0..3
     */
    public static long takeRequests(final DmaSpace memory, final long descriptorGpa, final int word) {
        return (long) LittleEndian.U64_ATOMIC.getAndSet(descriptor(memory, descriptorGpa), 8L * (word & 3), 0L);
    }

    /** The processor's side: clears ON, so the next post notifies again. */
    public static void clearOutstanding(final DmaSpace memory, final long descriptorGpa) {
        LittleEndian.U64_ATOMIC.getAndBitwiseAnd(descriptor(memory, descriptorGpa), (long) CONTROL_OFFSET, ~ON);
    }

    private static MemorySegment descriptor(final DmaSpace memory, final long descriptorGpa) {
        if ((descriptorGpa & (SIZE_BYTES - 1)) != 0) {
            throw new MemoryAccessException(MemoryAccessException.Reason.MISALIGNED, descriptorGpa, SIZE_BYTES,
                    "posted-interrupt descriptor");
        }
        return memory.translate(descriptorGpa, SIZE_BYTES, AccessMode.READ_WRITE);
    }
}

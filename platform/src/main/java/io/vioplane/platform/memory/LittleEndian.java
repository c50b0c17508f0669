package io.vioplane.platform.memory;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The value layouts of guest-visible structures: VIRTIO 1.x section 1.4 makes every field little-endian
 * (le16, le32, le64). Unaligned layouts serve plain accesses; the aligned var handles serve acquire/release
 * accesses, which the JVM performs atomically only on naturally aligned addresses.
 */
public final class LittleEndian {
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Aligned 16-bit access: coordinates (MemorySegment, long offset). */
    public static final VarHandle U16_ATOMIC = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    /** Aligned 32-bit access: coordinates (MemorySegment, long offset). */
    public static final VarHandle U32_ATOMIC = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    /** Aligned 64-bit access: coordinates (MemorySegment, long offset). */
    public static final VarHandle U64_ATOMIC = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private LittleEndian() {
    }
}

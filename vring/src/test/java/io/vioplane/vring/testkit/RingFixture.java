package io.vioplane.vring.testkit;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;
import io.vioplane.vring.packed.PackedRing;
import io.vioplane.vring.split.SplitRing;

/**
 * Guest memory laid out for one queue, with both sides over it: for tests that play a driver (honest or
 * hostile) against the device side, or a device against the driver side.
 *
 * <pre>
 *   base + 0x000000  descriptor table / ring
 *   base + 0x080000  driver area (available ring / driver event suppression)
 *   base + 0x0C0000  device area (used ring / device event suppression)
 *   base + 0x100000  indirect table pool
 *   base + 0x400000  buffers (BUFFER_AREA_BYTES)
 * </pre>
 */
public final class RingFixture implements AutoCloseable {
    /** Guest-physical base of the fixture's memory. */
    public static final long BASE_GPA = 0x0010_0000L;
    public static final long DESC_GPA = BASE_GPA;
    public static final long DRIVER_GPA = BASE_GPA + 0x08_0000L;
    public static final long DEVICE_GPA = BASE_GPA + 0x0C_0000L;
    public static final long INDIRECT_POOL_GPA = BASE_GPA + 0x10_0000L;
    public static final long BUFFER_GPA = BASE_GPA + 0x40_0000L;
    public static final long BUFFER_AREA_BYTES = 0xC0_0000L;
    public static final long MEMORY_BYTES = 0x100_0000L;
    /** Segments per indirect table the driver side uses. */
    public static final int MAX_INDIRECT_ENTRIES = 16;

    private final GuestMemory memory;
    private final QueueConfig config;

    private RingFixture(final GuestMemory memory, final QueueConfig config) {
        this.memory = memory;
        this.config = config;
    }

    /** @return a fixture of one memfd region with a queue of {@code size} and the given feature bits */
    public static RingFixture create(final int size, final long features) {
        final GuestMemory memory = GuestMemory.ofMemFd(BASE_GPA, MEMORY_BYTES);
        return new RingFixture(memory, new QueueConfig(size, DESC_GPA, DRIVER_GPA, DEVICE_GPA,
                features | VirtioFeature.bit(VirtioFeature.VERSION_1)));
    }

    /** @return the fixture's guest memory */
    public GuestMemory memory() {
        return memory;
    }

    /** @return the queue configuration */
    public QueueConfig config() {
        return config;
    }

    /** @return a device side over the fixture's rings */
    public DeviceQueue device() {
        return VirtQueues.device(config, memory);
    }

    /** @return a driver side over the fixture's rings (zeroes them) */
    public DriverQueue driver(final boolean useIndirect) {
        return VirtQueues.driver(config, memory, INDIRECT_POOL_GPA, MAX_INDIRECT_ENTRIES, useIndirect);
    }

    /** Writes a split-ring descriptor at {@code index} of the table at {@code tableGpa}. */
    public void splitDescriptor(final long tableGpa, final int index, final long addr, final int len, final int flags,
                                final int next) {
        final long at = tableGpa + (long) index * SplitRing.DESC_BYTES;
        memory.putLong(at + SplitRing.DESC_ADDR, addr);
        memory.putInt(at + SplitRing.DESC_LEN, len);
        memory.putShort(at + SplitRing.DESC_FLAGS, (short) flags);
        memory.putShort(at + SplitRing.DESC_NEXT, (short) next);
    }

    /** Makes the split chain headed at {@code head} available at avail slot {@code slot} and sets avail idx. */
    public void splitMakeAvailable(final int slot, final int head, final int availIdx) {
        memory.putShort(DRIVER_GPA + SplitRing.AVAIL_RING + 2L * slot, (short) head);
        memory.putShortRelease(DRIVER_GPA + SplitRing.AVAIL_IDX, (short) availIdx);
    }

    /** Writes a packed-ring descriptor at ring position {@code position} (or into a table at {@code tableGpa}). */
    public void packedDescriptor(final long tableGpa, final int position, final long addr, final int len, final int id,
                                 final int flags) {
        final long at = tableGpa + (long) position * PackedRing.DESC_BYTES;
        memory.putLong(at + PackedRing.DESC_ADDR, addr);
        memory.putInt(at + PackedRing.DESC_LEN, len);
        memory.putShort(at + PackedRing.DESC_ID, (short) id);
        memory.putShortRelease(at + PackedRing.DESC_FLAGS, (short) flags);
    }

    /** @return the gpa of the {@code n}th 4 KiB buffer slot in the buffer area */
    public static long buffer(final int n) {
        return BUFFER_GPA + (long) n * 4096;
    }

    @Override
    public void close() {
        memory.close();
    }
}

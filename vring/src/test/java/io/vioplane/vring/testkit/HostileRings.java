package io.vioplane.vring.testkit;

import io.vioplane.vring.QueueConfigException;
import io.vioplane.vring.RingViolation;
import io.vioplane.vring.VirtioFeature;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static io.vioplane.vring.packed.PackedRing.F_AVAIL;
import static io.vioplane.vring.packed.PackedRing.F_USED;
import static io.vioplane.vring.split.SplitRing.F_INDIRECT;
import static io.vioplane.vring.split.SplitRing.F_NEXT;
import static io.vioplane.vring.split.SplitRing.F_WRITE;
import static io.vioplane.vring.testkit.RingFixture.*;

/**
 * The catalogue of hostile drivers: rings a malicious or broken guest can write, each with the typed
 * violation the device side must report. Shared by vring's tests and by every device and vhost-user test that
 * needs a hostile ring.
 */
public final class HostileRings {
    /** Features every entry starts from (indirect on unless the entry is about its absence). */
    public static final long BASE_FEATURES = VirtioFeature.mask(VirtioFeature.INDIRECT_DESC);

    /**
     * One attack on a queue's rings.
     *
     * @param name        what the driver does, as a test name
     * @param packed      true for the packed layout
     * @param size        queue size
     * @param features    negotiated features
     * @param maxSegments the device's segment limit for this attack
     * @param plant       writes the hostile ring into the fixture's memory
     * @param expected    the violation the device must report
     */
    public record Attack(String name, boolean packed, int size, long features, int maxSegments,
                         Consumer<RingFixture> plant, RingViolation expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * A configuration a driver can give that must be refused when the queue is enabled.
     *
     * @param name     what the driver does
     * @param packed   true for the packed layout
     * @param size     queue size
     * @param descGpa  descriptor area
     * @param driverGpa driver area
     * @param deviceGpa device area
     * @param expected why it must be refused
     */
    public record BadConfig(String name, boolean packed, int size, long descGpa, long driverGpa, long deviceGpa,
                            QueueConfigException.Reason expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private HostileRings() {
    }

    private static final int SIZE = 8;
    private static final int A = F_AVAIL;
    private static final long OUTSIDE_GPA = 0x7000_0000L;
    private static final long WRAPPING_GPA = 0xFFFF_FFFF_FFFF_F000L;

    private static Attack split(final String name, final Consumer<RingFixture> plant, final RingViolation expected) {
        return new Attack(name, false, SIZE, BASE_FEATURES, 1024, plant, expected);
    }

    private static Attack packed(final String name, final Consumer<RingFixture> plant, final RingViolation expected) {
        return new Attack(name, true, SIZE, BASE_FEATURES | VirtioFeature.bit(VirtioFeature.RING_PACKED), 1024, plant,
                expected);
    }

    /** Makes split head 0 available as the first entry. */
    private static void availHead0(final RingFixture f) {
        f.splitMakeAvailable(0, 0, 1);
    }

    /** @return every ring attack, split and packed */
    public static List<Attack> attacks() {
        final List<Attack> all = new ArrayList<>();
        all.add(split("rejectsDescriptorLoop", f -> {
            f.splitDescriptor(DESC_GPA, 0, buffer(0), 64, F_NEXT, 1);
            f.splitDescriptor(DESC_GPA, 1, buffer(1), 64, F_NEXT, 0);
            availHead0(f);
        }, RingViolation.CHAIN_LOOP));
        all.add(split("rejectsSelfLoopOfZeroLengthDescriptors", f -> {
            f.splitDescriptor(DESC_GPA, 0, buffer(0), 0, F_NEXT, 0);
            availHead0(f);
        }, RingViolation.CHAIN_LOOP));
        all.add(split("rejectsDescriptorLoopInsideIndirectTable", f -> {
            f.splitDescriptor(INDIRECT_POOL_GPA, 0, buffer(0), 64, F_NEXT, 1);
            f.splitDescriptor(INDIRECT_POOL_GPA, 1, buffer(1), 64, F_NEXT, 0);
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 32, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.CHAIN_LOOP));
        all.add(split("rejectsNextIndexOutOfRange", f -> {
            f.splitDescriptor(DESC_GPA, 0, buffer(0), 64, F_NEXT, SIZE);
            availHead0(f);
        }, RingViolation.NEXT_OUT_OF_RANGE));
        all.add(split("rejectsNextIndexOutOfRangeInsideIndirectTable", f -> {
            f.splitDescriptor(INDIRECT_POOL_GPA, 0, buffer(0), 64, F_NEXT, 2);
            f.splitDescriptor(INDIRECT_POOL_GPA, 1, buffer(1), 64, 0, 0);
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 32, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.NEXT_OUT_OF_RANGE));
        all.add(split("rejectsNestedIndirectTable", f -> {
            f.splitDescriptor(INDIRECT_POOL_GPA + 0x1000, 0, buffer(0), 64, 0, 0);
            f.splitDescriptor(INDIRECT_POOL_GPA, 0, INDIRECT_POOL_GPA + 0x1000, 16, F_INDIRECT, 0);
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 16, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_NESTED));
        all.add(split("rejectsIndirectTableOfLengthZero", f -> {
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 0, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_BAD_LENGTH));
        all.add(split("rejectsIndirectTableLengthNotMultipleOf16", f -> {
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 24, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_BAD_LENGTH));
        all.add(split("rejectsIndirectTableLongerThanTheQueue", f -> {
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 16 * (SIZE + 1), F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_BAD_LENGTH));
        all.add(split("rejectsIndirectTableOutsideMemory", f -> {
            f.splitDescriptor(DESC_GPA, 0, OUTSIDE_GPA, 32, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_OUT_OF_RANGE));
        all.add(split("rejectsIndirectTableWrappingTheAddressSpace", f -> {
            f.splitDescriptor(DESC_GPA, 0, -16L, 32, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_OUT_OF_RANGE));
        all.add(split("rejectsIndirectCombinedWithNext", f -> {
            f.splitDescriptor(INDIRECT_POOL_GPA, 0, buffer(0), 64, 0, 0);
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 16, F_INDIRECT | F_NEXT, 1);
            f.splitDescriptor(DESC_GPA, 1, buffer(1), 64, 0, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_WITH_NEXT));
        all.add(new Attack("rejectsIndirectWithoutTheFeature", false, SIZE, 0, 1024, f -> {
            f.splitDescriptor(INDIRECT_POOL_GPA, 0, buffer(0), 64, 0, 0);
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 16, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.INDIRECT_NOT_NEGOTIATED));
        all.add(split("rejectsBufferOutsideMemory", f -> {
            f.splitDescriptor(DESC_GPA, 0, OUTSIDE_GPA, 64, 0, 0);
            availHead0(f);
        }, RingViolation.BUFFER_OUT_OF_RANGE));
        all.add(split("rejectsBufferRunningPastTheEndOfMemory", f -> {
            f.splitDescriptor(DESC_GPA, 0, BASE_GPA + MEMORY_BYTES - 32, 64, 0, 0);
            availHead0(f);
        }, RingViolation.BUFFER_OUT_OF_RANGE));
        all.add(split("rejectsBufferWrappingTheAddressSpace", f -> {
            f.splitDescriptor(DESC_GPA, 0, WRAPPING_GPA, 0x2000, 0, 0);
            availHead0(f);
        }, RingViolation.BUFFER_OUT_OF_RANGE));
        all.add(split("rejectsWritableBufferOutsideMemory", f -> {
            f.splitDescriptor(DESC_GPA, 0, buffer(0), 64, F_NEXT, 1);
            f.splitDescriptor(DESC_GPA, 1, OUTSIDE_GPA, 1500, F_WRITE, 0);
            availHead0(f);
        }, RingViolation.BUFFER_OUT_OF_RANGE));
        all.add(new Attack("rejectsChainLongerThan4GiB", false, 512, BASE_FEATURES, 1024, f -> {
            for (int i = 0; i < 300; i++) {
                f.splitDescriptor(INDIRECT_POOL_GPA, i, BASE_GPA, (int) MEMORY_BYTES, F_NEXT, i + 1);
            }
            f.splitDescriptor(INDIRECT_POOL_GPA, 299, BASE_GPA, (int) MEMORY_BYTES, 0, 0);
            f.splitDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 300 * 16, F_INDIRECT, 0);
            availHead0(f);
        }, RingViolation.CHAIN_TOO_LARGE));
        all.add(split("rejectsAvailIndexJumpingPastTheQueueSize", f -> {
            f.splitDescriptor(DESC_GPA, 0, buffer(0), 64, 0, 0);
            f.splitMakeAvailable(0, 0, SIZE + 1);
        }, RingViolation.AVAIL_INDEX_JUMP));
        all.add(split("rejectsAvailIndexGoingBackwards", f -> {
            f.splitDescriptor(DESC_GPA, 0, buffer(0), 64, 0, 0);
            f.splitMakeAvailable(0, 0, 0xFFFF);
        }, RingViolation.AVAIL_INDEX_JUMP));
        all.add(split("rejectsHeadOutOfRange", f -> f.splitMakeAvailable(0, SIZE, 1), RingViolation.HEAD_OUT_OF_RANGE));
        all.add(split("rejectsHeadFarOutOfRange", f -> f.splitMakeAvailable(0, 0xFFFF, 1), RingViolation.HEAD_OUT_OF_RANGE));
        all.add(split("rejectsReadableAfterWritable", f -> {
            f.splitDescriptor(DESC_GPA, 0, buffer(0), 64, F_WRITE | F_NEXT, 1);
            f.splitDescriptor(DESC_GPA, 1, buffer(1), 64, 0, 0);
            availHead0(f);
        }, RingViolation.READABLE_AFTER_WRITABLE));
        all.add(new Attack("rejectsMoreSegmentsThanTheDeviceAccepts", false, SIZE, BASE_FEATURES, 4, f -> {
            for (int i = 0; i < 5; i++) {
                f.splitDescriptor(DESC_GPA, i, buffer(i), 64, i < 4 ? F_NEXT : 0, i + 1);
            }
            availHead0(f);
        }, RingViolation.CHAIN_TOO_LONG));

        all.add(packed("rejectsPackedChainContinuingIntoUnavailableDescriptor", f -> {
            f.packedDescriptor(DESC_GPA, 1, buffer(1), 64, 0, 0);
            f.packedDescriptor(DESC_GPA, 0, buffer(0), 64, 0, F_NEXT | A);
        }, RingViolation.PACKED_CHAIN_NOT_AVAILABLE));
        all.add(packed("rejectsPackedChainWithInconsistentWrapBits", f -> {
            f.packedDescriptor(DESC_GPA, 1, buffer(1), 64, 0, A | F_USED);
            f.packedDescriptor(DESC_GPA, 0, buffer(0), 64, 0, F_NEXT | A);
        }, RingViolation.PACKED_CHAIN_NOT_AVAILABLE));
        all.add(packed("rejectsPackedChainAroundTheWholeRing", f -> {
            for (int i = SIZE - 1; i >= 0; i--) {
                f.packedDescriptor(DESC_GPA, i, buffer(i), 64, 0, F_NEXT | A);
            }
        }, RingViolation.CHAIN_LOOP));
        all.add(packed("rejectsPackedBufferIdOutOfRange", f -> f.packedDescriptor(DESC_GPA, 0, buffer(0), 64, SIZE, A),
                RingViolation.HEAD_OUT_OF_RANGE));
        all.add(packed("rejectsPackedIndirectAfterNext", f -> {
            f.packedDescriptor(INDIRECT_POOL_GPA, 0, buffer(1), 64, 0, 0);
            f.packedDescriptor(DESC_GPA, 1, INDIRECT_POOL_GPA, 16, 0, F_INDIRECT | A);
            f.packedDescriptor(DESC_GPA, 0, buffer(0), 64, 0, F_NEXT | A);
        }, RingViolation.INDIRECT_WITH_NEXT));
        all.add(packed("rejectsPackedIndirectWithNext", f -> {
            f.packedDescriptor(INDIRECT_POOL_GPA, 0, buffer(1), 64, 0, 0);
            f.packedDescriptor(DESC_GPA, 1, buffer(2), 64, 0, A);
            f.packedDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 16, 0, F_INDIRECT | F_NEXT | A);
        }, RingViolation.INDIRECT_WITH_NEXT));
        all.add(packed("rejectsPackedNestedIndirectTable", f -> {
            f.packedDescriptor(INDIRECT_POOL_GPA, 0, INDIRECT_POOL_GPA + 0x1000, 16, 0, F_INDIRECT);
            f.packedDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 16, 0, F_INDIRECT | A);
        }, RingViolation.INDIRECT_NESTED));
        all.add(packed("rejectsPackedIndirectTableOfLengthZero",
                f -> f.packedDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 0, 0, F_INDIRECT | A),
                RingViolation.INDIRECT_BAD_LENGTH));
        all.add(packed("rejectsPackedIndirectTableLengthNotMultipleOf16",
                f -> f.packedDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 20, 0, F_INDIRECT | A),
                RingViolation.INDIRECT_BAD_LENGTH));
        all.add(packed("rejectsPackedIndirectTableOutsideMemory",
                f -> f.packedDescriptor(DESC_GPA, 0, OUTSIDE_GPA, 32, 0, F_INDIRECT | A),
                RingViolation.INDIRECT_OUT_OF_RANGE));
        all.add(new Attack("rejectsPackedIndirectWithoutTheFeature", true, SIZE,
                VirtioFeature.bit(VirtioFeature.RING_PACKED), 1024, f -> {
                    f.packedDescriptor(INDIRECT_POOL_GPA, 0, buffer(1), 64, 0, 0);
                    f.packedDescriptor(DESC_GPA, 0, INDIRECT_POOL_GPA, 16, 0, F_INDIRECT | A);
                }, RingViolation.INDIRECT_NOT_NEGOTIATED));
        all.add(packed("rejectsPackedBufferOutsideMemory", f -> f.packedDescriptor(DESC_GPA, 0, OUTSIDE_GPA, 64, 0, A),
                RingViolation.BUFFER_OUT_OF_RANGE));
        all.add(packed("rejectsPackedBufferWrappingTheAddressSpace",
                f -> f.packedDescriptor(DESC_GPA, 0, WRAPPING_GPA, 0x2000, 0, A), RingViolation.BUFFER_OUT_OF_RANGE));
        all.add(packed("rejectsPackedReadableAfterWritable", f -> {
            f.packedDescriptor(DESC_GPA, 1, buffer(1), 64, 0, A);
            f.packedDescriptor(DESC_GPA, 0, buffer(0), 64, 0, F_WRITE | F_NEXT | A);
        }, RingViolation.READABLE_AFTER_WRITABLE));
        return all;
    }

    /** @return every refused queue configuration */
    public static List<BadConfig> badConfigs() {
        final List<BadConfig> all = new ArrayList<>();
        all.add(new BadConfig("rejectsQueueSizeZero", false, 0, DESC_GPA, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.BAD_SIZE));
        all.add(new BadConfig("rejectsSplitQueueSizeNotPowerOfTwo", false, 3, DESC_GPA, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.BAD_SIZE));
        all.add(new BadConfig("rejectsQueueSizeAbove32768", false, 65536, DESC_GPA, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.BAD_SIZE));
        all.add(new BadConfig("rejectsPackedQueueSizeZero", true, 0, DESC_GPA, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.BAD_SIZE));
        all.add(new BadConfig("rejectsUnalignedDescriptorTable", false, 8, DESC_GPA + 8, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.MISALIGNED));
        all.add(new BadConfig("rejectsUnalignedAvailableRing", false, 8, DESC_GPA, DRIVER_GPA + 1, DEVICE_GPA,
                QueueConfigException.Reason.MISALIGNED));
        all.add(new BadConfig("rejectsUnalignedUsedRing", false, 8, DESC_GPA, DRIVER_GPA, DEVICE_GPA + 2,
                QueueConfigException.Reason.MISALIGNED));
        all.add(new BadConfig("rejectsUnalignedPackedRing", true, 8, DESC_GPA + 4, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.MISALIGNED));
        all.add(new BadConfig("rejectsUnalignedPackedEventSuppression", true, 8, DESC_GPA, DRIVER_GPA + 2, DEVICE_GPA,
                QueueConfigException.Reason.MISALIGNED));
        all.add(new BadConfig("rejectsDescriptorTableOutsideMemory", false, 8, OUTSIDE_GPA, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.OUT_OF_RANGE));
        all.add(new BadConfig("rejectsUsedRingRunningPastTheEndOfMemory", false, 256, DESC_GPA, DRIVER_GPA,
                BASE_GPA + MEMORY_BYTES - 64, QueueConfigException.Reason.OUT_OF_RANGE));
        all.add(new BadConfig("rejectsAvailableRingWrappingTheAddressSpace", false, 8, DESC_GPA, -16L, DEVICE_GPA,
                QueueConfigException.Reason.OUT_OF_RANGE));
        all.add(new BadConfig("rejectsPackedRingOutsideMemory", true, 8, OUTSIDE_GPA, DRIVER_GPA, DEVICE_GPA,
                QueueConfigException.Reason.OUT_OF_RANGE));
        return all;
    }
}

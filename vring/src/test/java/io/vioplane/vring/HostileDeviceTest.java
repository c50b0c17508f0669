package io.vioplane.vring;

import io.vioplane.vring.packed.PackedRing;
import io.vioplane.vring.split.SplitRing;
import io.vioplane.vring.testkit.RingFixture;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The driver side does not trust the device (Linux virtio_ring's "a broken queue stays broken"): a used id
 * that is not in flight, a used length beyond the buffer, or a used index that jumps, stops the queue with a
 * fault instead of corrupting the driver's bookkeeping.
 */
class HostileDeviceTest {
    private static final int[] TOKENS = new int[8];
    private static final int[] LENGTHS = new int[8];

    @Test
    void splitDriverRejectsAUsedIdNotInFlight() {
        try (RingFixture fixture = RingFixture.create(8, 0)) {
            final DriverQueue driver = fixture.driver(false);
            assertTrue(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 1, 0, 1));
            driver.publish();
            writeSplitUsed(fixture, 0, 5, 0, 1);
            assertEquals(0, driver.reap(TOKENS, LENGTHS, 8));
            assertTrue(driver.deviceFault().contains("not a buffer in flight"), driver.deviceFault());
            assertFalse(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 1, 0, 2), "a faulted queue stays stopped");
        }
    }

    @Test
    void splitDriverRejectsAUsedLengthBeyondTheWritableBuffer() {
        try (RingFixture fixture = RingFixture.create(8, 0)) {
            final DriverQueue driver = fixture.driver(false);
            assertTrue(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 0, 1, 1));
            driver.publish();
            writeSplitUsed(fixture, 0, 0, 65, 1);
            assertEquals(0, driver.reap(TOKENS, LENGTHS, 8));
            assertTrue(driver.deviceFault().contains("exceeds"), driver.deviceFault());
        }
    }

    @Test
    void splitDriverRejectsAUsedIndexJump() {
        try (RingFixture fixture = RingFixture.create(8, 0)) {
            final DriverQueue driver = fixture.driver(false);
            fixture.memory().putShortRelease(RingFixture.DEVICE_GPA + SplitRing.USED_IDX, (short) 9);
            assertEquals(0, driver.reap(TOKENS, LENGTHS, 8));
            assertTrue(driver.deviceFault().contains("jumped"), driver.deviceFault());
        }
    }

    @Test
    void packedDriverRejectsAUsedIdNotInFlight() {
        try (RingFixture fixture = RingFixture.create(8, VirtioFeature.bit(VirtioFeature.RING_PACKED))) {
            final DriverQueue driver = fixture.driver(false);
            assertTrue(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 1, 0, 1));
            fixture.packedDescriptor(RingFixture.DESC_GPA, 0, 0, 0, 6, PackedRing.F_AVAIL | PackedRing.F_USED);
            assertEquals(0, driver.reap(TOKENS, LENGTHS, 8));
            assertTrue(driver.deviceFault().contains("not a buffer in flight"), driver.deviceFault());
        }
    }

    @Test
    void packedDriverRejectsAUsedLengthBeyondTheWritableBuffer() {
        try (RingFixture fixture = RingFixture.create(8, VirtioFeature.bit(VirtioFeature.RING_PACKED))) {
            final DriverQueue driver = fixture.driver(false);
            assertTrue(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 0, 1, 1));
            fixture.packedDescriptor(RingFixture.DESC_GPA, 0, 0, 4096, 0,
                    PackedRing.F_AVAIL | PackedRing.F_USED | PackedRing.F_WRITE);
            assertEquals(0, driver.reap(TOKENS, LENGTHS, 8));
            assertTrue(driver.deviceFault().contains("exceeds"), driver.deviceFault());
        }
    }

    private static void writeSplitUsed(final RingFixture fixture, final int slot, final int id, final int length,
                                       final int usedIdx) {
        final long at = RingFixture.DEVICE_GPA + SplitRing.USED_RING + (long) SplitRing.USED_ELEM_BYTES * slot;
        fixture.memory().putInt(at, id);
        fixture.memory().putInt(at + 4, length);
        fixture.memory().putShortRelease(RingFixture.DEVICE_GPA + SplitRing.USED_IDX, (short) usedIdx);
    }
}

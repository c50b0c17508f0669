package io.vioplane.vring;

import io.vioplane.vring.packed.PackedRing;
import io.vioplane.vring.split.SplitRing;
import io.vioplane.vring.testkit.RingFixture;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every write a device queue makes into ring memory is reported to the dirty log (live migration), at the
 * logging address the front-end gave for the used ring (split) or at the rings' own addresses (packed).
 */
class DirtyLogTest {
    private record Write(long gpa, long length) {
    }

    @Test
    void splitQueueLogsUsedElementsAndTheIndexAtTheLogAddress() {
        try (RingFixture fixture = RingFixture.create(8, 0)) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue device = fixture.device();
            final List<Write> writes = new ArrayList<>();
            final long logGpa = 0x7700_0000L;
            device.setDirtyLog((gpa, length) -> writes.add(new Write(gpa, length)), logGpa);
            assertTrue(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 0, 1, 1));
            driver.publish();
            final DescriptorChain chain = new DescriptorChain();
            assertTrue(device.pop(chain));
            device.addUsed(chain, 10);
            device.publishUsed();
            assertEquals(List.of(new Write(logGpa + SplitRing.USED_RING, SplitRing.USED_ELEM_BYTES),
                    new Write(logGpa + SplitRing.USED_IDX, 2)), writes);
            writes.clear();
            device.setDirtyLog(DirtyPageLog.NONE, 0);
            assertTrue(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 0, 1, 2));
            driver.publish();
            assertTrue(device.pop(chain));
            device.addUsed(chain, 10);
            device.publishUsed();
            assertTrue(writes.isEmpty(), "logging stops when the log is removed");
        }
    }

    @Test
    void packedQueueLogsTheUsedDescriptorItWrote() {
        try (RingFixture fixture = RingFixture.create(8, VirtioFeature.bit(VirtioFeature.RING_PACKED))) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue device = fixture.device();
            final List<Write> writes = new ArrayList<>();
            device.setDirtyLog((gpa, length) -> writes.add(new Write(gpa, length)), 0);
            assertTrue(driver.add(new long[] {RingFixture.buffer(0), RingFixture.buffer(1)}, new int[] {64, 64}, 1, 1, 1));
            final DescriptorChain chain = new DescriptorChain();
            assertTrue(device.pop(chain));
            device.addUsed(chain, 10);
            device.publishUsed();
            assertEquals(List.of(new Write(RingFixture.DESC_GPA + PackedRing.DESC_LEN, 8)), writes);
        }
    }
}

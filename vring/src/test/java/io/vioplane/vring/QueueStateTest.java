package io.vioplane.vring;

import io.vioplane.vring.testkit.RingFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Saving and restoring where the device stands (vhost-user GET/SET_VRING_BASE): a device that stops and a new
 * device that resumes from the saved state continue the same stream of buffers, for both layouts.
 */
class QueueStateTest {
    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void aRestoredDeviceContinuesWhereTheSavedOneStopped(final boolean packed) {
        final long features = packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        try (RingFixture fixture = RingFixture.create(8, features)) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue first = fixture.device();
            final DescriptorChain chain = new DescriptorChain();
            final int[] tokens = new int[8];
            final int[] lengths = new int[8];
            int nextToken = 0;
            int expected = 0;
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < 5; i++) {
                    assertTrue(driver.add(new long[] {RingFixture.buffer(i)}, new int[] {100}, 0, 1, nextToken++));
                }
                driver.publish();
                final DeviceQueue device = round == 0 ? first : fixture.device();
                if (round > 0) {
                    device.restore(saved);
                }
                for (int i = 0; i < 5; i++) {
                    assertTrue(device.pop(chain), "round " + round + " chain " + i);
                    device.addUsed(chain, 10);
                }
                device.publishUsed();
                saved = device.state();
                assertEquals(5, driver.reap(tokens, lengths, 8));
                for (int i = 0; i < 5; i++) {
                    assertEquals(expected++, tokens[i]);
                    assertEquals(10, lengths[i]);
                }
            }
            assertNull(driver.deviceFault());
        }
    }

    private QueueState saved;

    @Test
    void aSplitRingResumesAtTheUsedIndexTheDriverSeesNotAtAStaleBase() {
        try (RingFixture fixture = RingFixture.create(8, 0)) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue first = fixture.device();
            final DescriptorChain chain = new DescriptorChain();
            for (int i = 0; i < 3; i++) {
                assertTrue(driver.add(new long[] {RingFixture.buffer(i)}, new int[] {100}, 0, 1, i));
            }
            driver.publish();
            assertTrue(first.pop(chain));
            first.addUsed(chain, 10);
            first.publishUsed();
            assertTrue(first.pop(chain), "taken, never used: lost if the new device resumed past it");
            final DeviceQueue resumed = fixture.device();
            assertEquals(QueueState.split(1, 1), resumed.resume(2), "the used index in the ring, not the base");
            assertTrue(resumed.pop(chain));
            assertEquals(2, resumed.state().nextAvailIndex(), "the unfinished chain was taken again");
        }
    }

    @Test
    void aPackedRingResumesFromTheIndicesAndWrapCountersOfItsBase() {
        try (RingFixture fixture = RingFixture.create(8, VirtioFeature.bit(VirtioFeature.RING_PACKED))) {
            final DeviceQueue device = fixture.device();
            final QueueState state = new QueueState(3, false, 2, true);
            assertEquals(state, device.resume(state.packedVringBase()));
            assertEquals(state, device.state());
        }
    }

    @Test
    void packedStateRoundTripsThroughTheVhostUserVringBase() {
        final QueueState state = new QueueState(0x1234, true, 0x0567, false);
        final int base = state.packedVringBase();
        assertEquals(0x1234 | 0x8000 | (0x0567 << 16), base);
        assertEquals(state, QueueState.fromPackedVringBase(base));
        final QueueState other = new QueueState(5, false, 7, true);
        assertEquals(other, QueueState.fromPackedVringBase(other.packedVringBase()));
    }

    @Test
    void splitStateKeepsSixteenBitIndices() {
        final QueueState state = QueueState.split(0x1_0005, 0xFFFF);
        assertEquals(5, state.nextAvailIndex());
        assertEquals(0xFFFF, state.nextUsedIndex());
    }
}

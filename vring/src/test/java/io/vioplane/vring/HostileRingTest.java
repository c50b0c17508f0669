package io.vioplane.vring;

import io.vioplane.vring.testkit.HostileRings;
import io.vioplane.vring.testkit.RingFixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every attack of the hostile catalogue against the device side: the queue reports the typed violation,
 * stays broken, throws nothing, takes no chain, and writes nothing a driver could see.
 */
class HostileRingTest {
    static List<HostileRings.Attack> attacks() {
        return HostileRings.attacks();
    }

    static List<HostileRings.BadConfig> badConfigs() {
        return HostileRings.badConfigs();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void reportsTheViolationAndStaysBroken(final HostileRings.Attack attack) {
        final long features = attack.features() | (attack.packed() ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0);
        try (RingFixture fixture = RingFixture.create(attack.size(), features)) {
            attack.plant().accept(fixture);
            final byte[] usedAreaBefore = fixture.memory().readBytes(RingFixture.DEVICE_GPA, 64);
            final DeviceQueue queue = fixture.device();
            final DescriptorChain chain = new DescriptorChain(attack.maxSegments());
            assertFalse(queue.pop(chain), "no chain may be taken from a hostile ring");
            assertEquals(attack.expected(), queue.violation());
            assertTrue(queue.isBroken());
            assertFalse(queue.pop(chain), "a broken queue stays broken");
            assertFalse(queue.hasAvailable());
            assertEquals(0, queue.inFlight());
            queue.publishUsed();
            assertArrayEquals(usedAreaBefore, fixture.memory().readBytes(RingFixture.DEVICE_GPA, 64),
                    "a broken queue writes nothing the driver can see");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void refusesTheConfigurationWhenEnabled(final HostileRings.BadConfig bad) {
        final long features = bad.packed() ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        try (RingFixture fixture = RingFixture.create(8, features)) {
            final QueueConfig config = new QueueConfig(bad.size(), bad.descGpa(), bad.driverGpa(), bad.deviceGpa(),
                    fixture.config().features());
            final QueueConfigException failure = assertThrows(QueueConfigException.class,
                    () -> VirtQueues.device(config, fixture.memory()));
            assertEquals(bad.expected(), failure.reason(), failure.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void aBrokenQueueDoesNotAffectAnotherQueueOfTheSameGuest(final HostileRings.Attack attack) {
        final long features = attack.features() | (attack.packed() ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0);
        try (RingFixture hostile = RingFixture.create(attack.size(), features);
             RingFixture honest = RingFixture.create(8, VirtioFeature.mask(VirtioFeature.INDIRECT_DESC))) {
            attack.plant().accept(hostile);
            final DeviceQueue broken = hostile.device();
            final DriverQueue driver = honest.driver(false);
            final DeviceQueue healthy = honest.device();
            assertFalse(broken.pop(new DescriptorChain(attack.maxSegments())));
            assertTrue(driver.add(new long[] {RingFixture.buffer(0)}, new int[] {64}, 1, 0, 7));
            driver.publish();
            final DescriptorChain chain = new DescriptorChain();
            assertTrue(healthy.pop(chain));
            assertEquals(64, chain.readableBytes());
            assertNull(healthy.violation());
        }
    }
}

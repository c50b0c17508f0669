package io.vioplane.vring;

import io.vioplane.vring.testkit.RingFixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Notification suppression in both directions, with flags and with EVENT_IDX, for both layouts (VIRTIO 1.x
 * 2.7.7, 2.7.10, 2.8.10): the device that polls gets no kicks, the device that re-enables gets the next one,
 * the driver that asked for no interrupts gets none, and the event-index rule fires exactly once per window.
 */
class NotificationSuppressionTest {
    private static final long[] ONE_GPA = {RingFixture.buffer(0)};
    private static final int[] ONE_LENGTH = {64};

    private static long features(final boolean packed, final boolean eventIdx) {
        return (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0)
                | (eventIdx ? VirtioFeature.bit(VirtioFeature.EVENT_IDX) : 0);
    }

    private static void addOne(final DriverQueue driver, final int token) {
        assertTrue(driver.add(ONE_GPA, ONE_LENGTH, 1, 0, token));
        driver.publish();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void flagsSuppressKicksWhileTheDevicePolls(final boolean packed) {
        try (RingFixture fixture = RingFixture.create(8, features(packed, false))) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue device = fixture.device();
            addOne(driver, 0);
            assertTrue(driver.needsKick(), "notifications start enabled");
            device.disableNotifications();
            addOne(driver, 1);
            assertFalse(driver.needsKick(), "a polling device wants no kicks");
            assertTrue(device.enableNotifications(), "re-enabling finds the buffers that arrived meanwhile");
            addOne(driver, 2);
            assertTrue(driver.needsKick());
            assertFalse(driver.needsKick(), "nothing new since the last decision");
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void eventIndexAsksForOneKickPerWindow(final boolean packed) {
        try (RingFixture fixture = RingFixture.create(8, features(packed, true))) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue device = fixture.device();
            final DescriptorChain chain = new DescriptorChain();
            assertFalse(device.enableNotifications(), "nothing available yet");
            addOne(driver, 0);
            assertTrue(driver.needsKick(), "the first buffer after enabling crosses the event");
            addOne(driver, 1);
            assertFalse(driver.needsKick(), "the device has not caught up: the event is behind");
            device.disableNotifications();
            assertTrue(device.pop(chain));
            assertTrue(device.pop(chain));
            assertFalse(device.enableNotifications(), "the device consumed everything before enabling");
            addOne(driver, 2);
            assertTrue(driver.needsKick(), "enabling moved the event to the device's position");
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void flagsSuppressInterruptsWhileTheDriverPolls(final boolean packed) {
        try (RingFixture fixture = RingFixture.create(8, features(packed, false))) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue device = fixture.device();
            final DescriptorChain chain = new DescriptorChain();
            addOne(driver, 0);
            addOne(driver, 1);
            addOne(driver, 2);
            assertFalse(device.needsInterrupt(), "nothing published yet");
            assertTrue(device.pop(chain));
            device.addUsed(chain, 0);
            device.publishUsed();
            assertTrue(device.needsInterrupt(), "interrupts start enabled");
            driver.disableInterrupts();
            assertTrue(device.pop(chain));
            device.addUsed(chain, 0);
            device.publishUsed();
            assertFalse(device.needsInterrupt(), "a polling driver wants no interrupts");
            assertTrue(driver.enableInterrupts(), "re-enabling finds the used buffer that arrived meanwhile");
            assertTrue(device.pop(chain));
            device.addUsed(chain, 0);
            device.publishUsed();
            assertTrue(device.needsInterrupt());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void eventIndexAsksForOneInterruptPerWindow(final boolean packed) {
        try (RingFixture fixture = RingFixture.create(8, features(packed, true))) {
            final DriverQueue driver = fixture.driver(false);
            final DeviceQueue device = fixture.device();
            final DescriptorChain chain = new DescriptorChain();
            final int[] tokens = new int[8];
            final int[] lengths = new int[8];
            for (int i = 0; i < 4; i++) {
                addOne(driver, i);
            }
            assertFalse(driver.enableInterrupts());
            assertTrue(device.pop(chain));
            device.addUsed(chain, 0);
            device.publishUsed();
            assertTrue(device.needsInterrupt(), "the first used buffer after enabling crosses the event");
            assertTrue(device.pop(chain));
            device.addUsed(chain, 0);
            device.publishUsed();
            assertFalse(device.needsInterrupt(), "the driver has not reaped: the event is behind");
            assertEquals(2, driver.reap(tokens, lengths, 8));
            driver.disableInterrupts();
            assertTrue(device.pop(chain));
            device.addUsed(chain, 0);
            device.publishUsed();
            assertFalse(device.needsInterrupt(), "interrupts disabled");
            assertEquals(1, driver.reap(tokens, lengths, 8));
            assertFalse(driver.enableInterrupts());
            assertTrue(device.pop(chain));
            device.addUsed(chain, 0);
            device.publishUsed();
            assertTrue(device.needsInterrupt(), "enabling moved the event to the driver's position");
        }
    }
}

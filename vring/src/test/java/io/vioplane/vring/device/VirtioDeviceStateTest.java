package io.vioplane.vring.device;

import io.vioplane.vring.QueueConfigException;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.vioplane.vring.device.DeviceStatus.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The status state machine as a driver drives it (VIRTIO 1.x 3.1.1), and as a hostile driver abuses it.
 */
class VirtioDeviceStateTest {
    private static final int FEATURE_A = 0;
    private static final int FEATURE_NEEDS_A = 1;
    private static final long OFFERED = VirtioFeature.mask(VirtioFeature.VERSION_1, VirtioFeature.EVENT_IDX, FEATURE_A,
            FEATURE_NEEDS_A);

    private final List<String> events = new ArrayList<>();
    private boolean failActivation;
    private VirtioDeviceState state;

    private final VirtioDevice device = new VirtioDevice() {
        @Override
        public int deviceId() {
            return 42;
        }

        @Override
        public long offeredFeatures() {
            return OFFERED;
        }

        @Override
        public FeatureRules featureRules() {
            return FeatureRules.builder().requires(FEATURE_NEEDS_A, "feature 1 requires feature 0", FEATURE_A).build();
        }

        @Override
        public int maxQueues() {
            return 1;
        }

        @Override
        public int maxQueueSize(final int queueIndex) {
            return 256;
        }

        @Override
        public int configSize() {
            return 0;
        }

        @Override
        public void readConfig(final long offset, final MemorySegment destination) {
        }

        @Override
        public void writeConfig(final long offset, final MemorySegment source) {
        }

        @Override
        public void activate(final DeviceContext context) {
        }

        @Override
        public void reset() {
            events.add("device reset");
        }
    };

    @BeforeEach
    void setUp() {
        state = new VirtioDeviceState(device, new VirtioDeviceState.Transport() {
            @Override
            public void activate(final long negotiatedFeatures) {
                if (failActivation) {
                    throw new QueueConfigException(QueueConfigException.Reason.MISALIGNED, "used ring misaligned");
                }
                events.add("activate 0x" + Long.toHexString(negotiatedFeatures));
            }

            @Override
            public void deactivate() {
                events.add("deactivate");
            }

            @Override
            public void signalConfigChange() {
                events.add("config interrupt");
            }
        });
    }

    private void negotiate(final long features) {
        state.writeStatus(ACKNOWLEDGE);
        state.writeStatus(ACKNOWLEDGE | DRIVER);
        state.writeDriverFeatures(features);
        state.writeStatus(ACKNOWLEDGE | DRIVER | FEATURES_OK);
    }

    @Test
    void aWellBehavedDriverReachesDriverOkAndActivatesOnce() {
        final long features = VirtioFeature.mask(VirtioFeature.VERSION_1, FEATURE_A, FEATURE_NEEDS_A);
        negotiate(features);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK, state.status(), "FEATURES_OK reads back set");
        assertEquals(features, state.negotiatedFeatures());
        state.writeStatus(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        assertEquals(List.of("activate 0x" + Long.toHexString(features)), events);
        state.writeStatus(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        assertEquals(1, events.size(), "writing DRIVER_OK again does not activate again");
    }

    @Test
    void refusesFeaturesWhoseDependencyIsMissing() {
        negotiate(VirtioFeature.mask(VirtioFeature.VERSION_1, FEATURE_NEEDS_A));
        assertEquals(0, state.status() & FEATURES_OK, "the driver reads FEATURES_OK back clear");
        assertEquals("feature 1 requires feature 0", state.lastError());
    }

    @Test
    void refusesFeaturesTheDeviceDidNotOffer() {
        negotiate(VirtioFeature.mask(VirtioFeature.VERSION_1) | VirtioFeature.bit(50));
        assertEquals(0, state.status() & FEATURES_OK);
        assertTrue(state.lastError().contains("did not offer"), state.lastError());
    }

    @Test
    void refusesALegacyDriverWithoutVersion1() {
        negotiate(VirtioFeature.mask(FEATURE_A));
        assertEquals(0, state.status() & FEATURES_OK);
        assertTrue(state.lastError().contains("VERSION_1"));
    }

    @Test
    void driverOkWithoutFeaturesOkNeedsReset() {
        state.writeStatus(ACKNOWLEDGE | DRIVER | DRIVER_OK);
        assertTrue((state.status() & DEVICE_NEEDS_RESET) != 0);
        assertEquals(List.of("config interrupt"), events, "no activation, a configuration-change interrupt");
    }

    @Test
    void anActivationTheQueuesMakeImpossibleNeedsReset() {
        failActivation = true;
        negotiate(VirtioFeature.mask(VirtioFeature.VERSION_1));
        state.writeStatus(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        assertTrue((state.status() & DEVICE_NEEDS_RESET) != 0);
        assertTrue(state.lastError().contains("misaligned"), state.lastError());
    }

    @Test
    void ignoresClearingBitsSettingNeedsResetAndLateFeatureChanges() {
        final long features = VirtioFeature.mask(VirtioFeature.VERSION_1);
        negotiate(features);
        state.writeStatus(ACKNOWLEDGE | DEVICE_NEEDS_RESET);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK, state.status(), "bits cannot be cleared but by reset");
        state.writeDriverFeatures(OFFERED);
        assertEquals(features, state.negotiatedFeatures(), "features are fixed at FEATURES_OK");
        assertEquals(2, state.ignoredWrites());
    }

    @Test
    void resetForgetsEverythingAndDeactivatesAnActiveDevice() {
        negotiate(VirtioFeature.mask(VirtioFeature.VERSION_1));
        state.writeStatus(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        final int generation = state.configGeneration();
        state.writeStatus(0);
        assertEquals(0, state.status());
        assertEquals(0, state.negotiatedFeatures());
        assertEquals(0, state.driverFeatures());
        assertTrue(state.configGeneration() > generation);
        assertTrue(events.containsAll(List.of("deactivate", "device reset")));
    }

    @Test
    void aBrokenQueueSetsNeedsResetOnceAndInterrupts() {
        negotiate(VirtioFeature.mask(VirtioFeature.VERSION_1));
        state.writeStatus(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        events.clear();
        state.markNeedsReset("guest driver broke queue 0: descriptor chain longer than the queue (a loop)");
        state.markNeedsReset("again");
        assertTrue((state.status() & DEVICE_NEEDS_RESET) != 0);
        assertEquals(List.of("config interrupt"), events, "one interrupt, however often it is reported");
        state.writeStatus(0);
        assertEquals(0, state.status() & DEVICE_NEEDS_RESET, "a reset clears it");
    }

    @Test
    void describesStatusBits() {
        assertEquals("RESET", DeviceStatus.describe(0));
        assertEquals("ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK", DeviceStatus.describe(0xF));
        assertEquals("DEVICE_NEEDS_RESET|0x10", DeviceStatus.describe(0x50));
    }
}

package io.vioplane.vring.device;

import io.vioplane.vring.VirtioFeature;

import java.util.ArrayList;
import java.util.List;

/**
 * Feature dependencies a device declares, checked when the driver sets FEATURES_OK (VIRTIO 1.x section 2.2:
 * "The driver MUST NOT accept a feature which ... requires other features which were not accepted"; each
 * device type lists its own, e.g. 5.1.3.1 for network devices).
 *
 * <p>Immutable once built; {@link #check} allocates only for the message of a refusal.
 */
public final class FeatureRules {
    private final long[] featureMasks;
    private final long[] anyOfMasks;
    private final String[] descriptions;

    private FeatureRules(final List<long[]> rules, final List<String> texts) {
        featureMasks = new long[rules.size()];
        anyOfMasks = new long[rules.size()];
        for (int i = 0; i < rules.size(); i++) {
            featureMasks[i] = rules.get(i)[0];
            anyOfMasks[i] = rules.get(i)[1];
        }
        descriptions = texts.toArray(String[]::new);
    }

    /** @return a builder of rules */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param offered what the device offers
     * @param driver  what the driver accepted
     * @return null if the driver's features are acceptable, otherwise why not
     */
    public String check(final long offered, final long driver) {
        final long unoffered = driver & ~offered;
        if (unoffered != 0) {
            return "driver accepted features the device did not offer: 0x" + Long.toHexString(unoffered);
        }
        if (!VirtioFeature.has(driver, VirtioFeature.VERSION_1)) {
            return "driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)";
        }
        for (int i = 0; i < featureMasks.length; i++) {
            if ((driver & featureMasks[i]) != 0 && (driver & anyOfMasks[i]) == 0) {
                return descriptions[i];
            }
        }
        return null;
    }

    /** Collects rules. */
    public static final class Builder {
        private final List<long[]> rules = new ArrayList<>();
        private final List<String> texts = new ArrayList<>();

        private Builder() {
        }

        /**
         * Feature {@code feature} may only be accepted together with at least one of {@code anyOf}.
         *
         * @param description the rule as the spec states it, for the refusal message
         */
        public Builder requires(final int feature, final String description, final int... anyOf) {
            rules.add(new long[] {VirtioFeature.bit(feature), VirtioFeature.mask(anyOf)});
            texts.add(description);
            return this;
        }

        /** @return the rules */
        public FeatureRules build() {
            return new FeatureRules(rules, texts);
        }
    }
}

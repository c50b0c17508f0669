package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;

/**
 * Per-port bridge counters for {@code vioplane stat}: frames and bytes in and out, and drops by reason.
 */
public final class BridgePortCounters extends CounterSet<BridgePortCounters.Kind> {
    /** What a bridge port counts. */
    public enum Kind implements CounterKind {
        IN_PACKETS("in packets"),
        IN_BYTES("in bytes"),
        OUT_PACKETS("out packets"),
        OUT_BYTES("out bytes"),
        SPOOFED("drops: guest sent a spoofed source MAC"),
        INVALID_SOURCE("drops: multicast source MAC"),
        TOO_BIG("drops: frame above the port MTU"),
        EGRESS_FULL("drops: port queue full"),
        FLOODED("flooded out");

        private final String label;

        Kind(final String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }
    }

    BridgePortCounters(final Counters counters, final String prefix) {
        super(counters, Kind.class, prefix, CounterType.PORT);
    }

    /** @return frames that entered the bridge from this port */
    public long inPackets() {
        return get(Kind.IN_PACKETS);
    }

    /** @return frames the bridge sent out of this port */
    public long outPackets() {
        return get(Kind.OUT_PACKETS);
    }

    /** @return frames dropped for a spoofed source address */
    public long spoofed() {
        return get(Kind.SPOOFED);
    }

    /** @return frames dropped for exceeding the port's MTU */
    public long tooBig() {
        return get(Kind.TOO_BIG);
    }

    /** @return frames dropped because this port's queue was full */
    public long egressFull() {
        return get(Kind.EGRESS_FULL);
    }

    /** @return frames flooded out of this port */
    public long flooded() {
        return get(Kind.FLOODED);
    }
}

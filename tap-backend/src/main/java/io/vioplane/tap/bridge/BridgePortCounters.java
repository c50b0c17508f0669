package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;

/**
 * Per-port bridge counters for {@code vioplane stat}: frames and bytes in and out, and drops by reason.
 *
 * <p>They account for every frame. On the way in, each frame entering from a port is dropped there by one reason
 * (runt, multicast source, spoofed source, destination on the same port), flooded to every other port, or sent to
 * the one port its destination was learned on: {@code in = drops on the way in + in flooded + unicast}. On the way
 * out, each frame offered to a port is sent or dropped there (above its MTU, its queue full): summed over the ports,
 * {@code out + too big + queue full = unicast + in flooded * (ports - 1)}.
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
        RUNT("drops: frame shorter than an Ethernet header"),
        SAME_PORT("drops: destination on the port the frame came from"),
        TOO_BIG("drops: frame above the port MTU"),
        EGRESS_FULL("drops: port queue full"),
        FLOODED_IN("in flooded to every other port"),
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

    /** @return frames that entered from this port and were flooded to every other port */
    public long floodedIn() {
        return get(Kind.FLOODED_IN);
    }

    /** @return frames dropped because their destination was learned on the port they came from */
    public long samePort() {
        return get(Kind.SAME_PORT);
    }

    /** @return frames flooded out of this port */
    public long flooded() {
        return get(Kind.FLOODED);
    }
}

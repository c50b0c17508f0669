package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Per-port bridge counters for {@code vioplane stat}: frames and bytes in and out, and drops by reason.
 */
public final class BridgePortCounters implements AutoCloseable {
    private final Counters counters;
    final AtomicCounter inPackets;
    final AtomicCounter inBytes;
    final AtomicCounter outPackets;
    final AtomicCounter outBytes;
    final AtomicCounter spoofed;
    final AtomicCounter invalidSource;
    final AtomicCounter tooBig;
    final AtomicCounter egressFull;
    final AtomicCounter flooded;

    BridgePortCounters(final Counters counters, final String prefix) {
        this.counters = counters;
        inPackets = counters.counter(prefix + " in packets", CounterType.PORT);
        inBytes = counters.counter(prefix + " in bytes", CounterType.PORT);
        outPackets = counters.counter(prefix + " out packets", CounterType.PORT);
        outBytes = counters.counter(prefix + " out bytes", CounterType.PORT);
        spoofed = counters.counter(prefix + " drops: guest sent a spoofed source MAC", CounterType.PORT);
        invalidSource = counters.counter(prefix + " drops: multicast source MAC", CounterType.PORT);
        tooBig = counters.counter(prefix + " drops: frame above the port MTU", CounterType.PORT);
        egressFull = counters.counter(prefix + " drops: port queue full", CounterType.PORT);
        flooded = counters.counter(prefix + " flooded out", CounterType.PORT);
    }

    /** @return frames that entered the bridge from this port */
    public long inPackets() {
        return inPackets.get();
    }

    /** @return frames the bridge sent out of this port */
    public long outPackets() {
        return outPackets.get();
    }

    /** @return frames dropped for a spoofed source address */
    public long spoofed() {
        return spoofed.get();
    }

    /** @return frames dropped for exceeding the port's MTU */
    public long tooBig() {
        return tooBig.get();
    }

    /** @return frames dropped because this port's queue was full */
    public long egressFull() {
        return egressFull.get();
    }

    /** @return frames flooded out of this port */
    public long flooded() {
        return flooded.get();
    }

    @Override
    public void close() {
        for (AtomicCounter c : new AtomicCounter[] {inPackets, inBytes, outPackets, outBytes, spoofed, invalidSource,
                tooBig, egressFull, flooded}) {
            counters.free(c);
        }
    }
}

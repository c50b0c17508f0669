package io.vioplane.e1000.testkit;

import io.vioplane.e1000.DeviceClock;

/** A {@link DeviceClock} the test advances by hand, so that moderation timers are deterministic. */
public final class ManualClock implements DeviceClock {
    private long nowNs = 1_000_000_000L;

    @Override
    public long nanoTime() {
        return nowNs;
    }

    /** Moves time forward by {@code ns}. */
    public void advance(final long ns) {
        nowNs += ns;
    }
}

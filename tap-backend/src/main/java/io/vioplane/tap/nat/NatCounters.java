package io.vioplane.tap.nat;

import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;

/**
 * The gateway's counters for {@code vioplane stat}: a {@link CounterSet} of {@link NatDrop} reasons
 * ("nat[NAME] drops: ...") and one of {@link NatEvent}s ("nat[NAME] ..."). Written by the data-plane thread only
 * (release increments), readable anywhere.
 */
public final class NatCounters implements AutoCloseable {
    private final CounterSet<NatDrop> drops;
    private final CounterSet<NatEvent> events;

    /** Allocates the counters, labelled {@code nat[name] ...}. */
    public NatCounters(final Counters counters, final String name) {
        drops = new CounterSet<>(counters, NatDrop.class, "nat[" + name + "] drops:", CounterType.PORT);
        try {
            events = new CounterSet<>(counters, NatEvent.class, "nat[" + name + "]", CounterType.PORT);
        } catch (RuntimeException e) {
            drops.close();
            throw e;
        }
    }

    public void drop(final NatDrop reason) {
        drops.increment(reason);
    }

    public void count(final NatEvent event) {
        events.increment(event);
    }

    public void add(final NatEvent event, final long amount) {
        events.add(event, amount);
    }

    /** @return frames dropped for {@code reason} */
    public long drops(final NatDrop reason) {
        return drops.get(reason);
    }

    /** @return frames dropped for any reason */
    public long totalDrops() {
        return drops.total();
    }

    /** @return how often {@code event} happened */
    public long events(final NatEvent event) {
        return events.get(event);
    }

    @Override
    public void close() {
        drops.close();
        events.close();
    }
}

package io.vioplane.tap.nat;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The gateway's counters for {@code vioplane stat}: one per {@link NatDrop} reason ("nat[NAME] drops: ...") and
 * one per {@link NatEvent}. Written by the data-plane thread only (release increments), readable anywhere.
 */
public final class NatCounters implements AutoCloseable {
    private final Counters counters;
    private final AtomicCounter[] drops = new AtomicCounter[NatDrop.values().length];
    private final AtomicCounter[] events = new AtomicCounter[NatEvent.values().length];

    /** Allocates the counters, labelled {@code nat[name] ...}. */
    public NatCounters(final Counters counters, final String name) {
        this.counters = counters;
        for (NatDrop drop : NatDrop.values()) {
            drops[drop.ordinal()] = counters.counter("nat[" + name + "] drops: " + drop.label(), CounterType.PORT);
        }
        for (NatEvent event : NatEvent.values()) {
            events[event.ordinal()] = counters.counter("nat[" + name + "] " + event.label(), CounterType.PORT);
        }
    }

    void drop(final NatDrop reason) {
        drops[reason.ordinal()].incrementRelease();
    }

    void count(final NatEvent event) {
        events[event.ordinal()].incrementRelease();
    }

    void add(final NatEvent event, final long amount) {
        events[event.ordinal()].getAndAddRelease(amount);
    }

    /** @return frames dropped for {@code reason} */
    public long drops(final NatDrop reason) {
        return drops[reason.ordinal()].get();
    }

    /** @return frames dropped for any reason */
    public long totalDrops() {
        long total = 0;
        for (AtomicCounter counter : drops) {
            total += counter.get();
        }
        return total;
    }

    /** @return how often {@code event} happened */
    public long events(final NatEvent event) {
        return events[event.ordinal()].get();
    }

    @Override
    public void close() {
        for (AtomicCounter counter : drops) {
            counters.free(counter);
        }
        for (AtomicCounter counter : events) {
            counters.free(counter);
        }
    }
}

package io.vioplane.platform.runtime;

import org.agrona.concurrent.status.AtomicCounter;

import java.util.Set;

/**
 * The counters of one component, one per constant of an enum of {@link CounterKind}s, allocated together in
 * {@link Counters} (and so visible to {@code vioplane stat} when those are a {@link CountersFile}) and freed together
 * by {@link #close()}, which therefore cannot forget a slot. Each counter is labelled {@code PREFIX LABEL}, e.g.
 * {@code "net[/tmp/vm0.sock] q1 tx drops: port refused"}.
 *
 * <pre>{@code
 * CounterSet<ExitCounter> exits = new CounterSet<>(counters, ExitCounter.class, "vcpu[0]", CounterType.DEVICE);
 * exits.increment(ExitCounter.HLT);          // data path: a release store, nothing allocated
 * long halts = exits.get(ExitCounter.HLT);   // any thread; after close(), the final value
 * exits.close();
 * }</pre>
 *
 * <p>Single writer: the thread that owns the component updates its counters ({@link #increment}, {@link #add});
 * any thread may read them. A component that wants named getters extends this class.
 *
 * @param <K> the enum of what is counted
 */
public class CounterSet<K extends Enum<K> & CounterKind> implements AutoCloseable {
    private final Counters counters;
    private final K[] kinds;
    private final AtomicCounter[] slots;
    private volatile long[] finalValues;

    /**
     * Allocates one counter per constant of {@code kinds}.
     *
     * @param counters where to allocate
     * @param kinds    the enum of what is counted
     * @param prefix   what the counters belong to, e.g. {@code "bridge[br0] port tap0"}
     * @param typeId   a {@link CounterType} id grouping the counters
     */
    public CounterSet(final Counters counters, final Class<K> kinds, final String prefix, final int typeId) {
        this.counters = counters;
        this.kinds = kinds.getEnumConstants();
        this.slots = new AtomicCounter[this.kinds.length];
        try {
            for (K kind : this.kinds) {
                slots[kind.ordinal()] = counters.counter(prefix + " " + kind.label(), typeId);
            }
        } catch (RuntimeException e) {
            freeSlots();
            throw e;
        }
    }

    /**
     * A set kept in this process's memory only, not published: for components made without a
     * {@link CountersFile} (tests, embedded use).
     */
    public static <K extends Enum<K> & CounterKind> CounterSet<K> unpublished(final Class<K> kinds) {
        return new CounterSet<>(Counters.inMemory(kinds.getEnumConstants().length), kinds, "", CounterType.GENERIC);
    }

    /** Adds one to {@code kind}. */
    public final void increment(final K kind) {
        slots[kind.ordinal()].incrementRelease();
    }

    /** Adds {@code amount} to {@code kind}. */
    public final void add(final K kind, final long amount) {
        slots[kind.ordinal()].getAndAddRelease(amount);
    }

    /** @return the count of {@code kind}; after {@link #close()}, its final value */
    public final long get(final K kind) {
        final long[] closed = finalValues;
        return closed != null ? closed[kind.ordinal()] : slots[kind.ordinal()].get();
    }

    /** @return the sum of every counter in the set */
    public final long total() {
        long sum = 0;
        for (K kind : kinds) {
            sum += get(kind);
        }
        return sum;
    }

    /** @return the sum of the counters of {@code selected} (an {@link java.util.EnumSet}) */
    public final long total(final Set<K> selected) {
        long sum = 0;
        for (K kind : selected) {
            sum += get(kind);
        }
        return sum;
    }

    /** Keeps the final values readable through {@link #get} and frees every slot. Idempotent. */
    @Override
    public void close() {
        if (finalValues != null) {
            return;
        }
        final long[] values = new long[kinds.length];
        for (K kind : kinds) {
            values[kind.ordinal()] = slots[kind.ordinal()].get();
        }
        finalValues = values;
        freeSlots();
    }

    private void freeSlots() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                counters.free(slots[i]);
            }
        }
    }

    /** @return the non-zero counters, {@code {label=value, ...}} */
    @Override
    public String toString() {
        final StringBuilder text = new StringBuilder("{");
        for (K kind : kinds) {
            final long value = get(kind);
            if (value != 0) {
                text.append(text.length() > 1 ? ", " : "").append(kind.label()).append('=').append(value);
            }
        }
        return text.append('}').toString();
    }
}

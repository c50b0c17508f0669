package io.vioplane.virtioblk.engine;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtioblk.BlkRefusal;

/**
 * The counters of one virtio-blk request queue, published for {@code vioplane stat}: requests and bytes by
 * kind, backend errors, kicks, interrupts, completion batches; and, in a second set, refusals by
 * {@link BlkRefusal} reason (named after who was at fault). Written only by the data-plane thread.
 */
public final class BlkQueueCounters extends CounterSet<BlkQueueCounters.Kind> {
    /** What a virtio-blk queue counts besides refusals. */
    public enum Kind implements CounterKind {
        READS("reads"),
        WRITES("writes"),
        FLUSHES("flushes"),
        DISCARDS("discards"),
        WRITE_ZEROES("write-zeroes"),
        GET_IDS("get-id"),
        BYTES_READ("bytes read"),
        BYTES_WRITTEN("bytes written"),
        IO_ERRORS("errors: backend I/O failed"),
        KICKS("kicks"),
        INTERRUPTS("interrupts"),
        BATCHES("completion batches"),
        RING_VIOLATIONS("ring violations");

        private final String label;

        Kind(final String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }
    }

    private final CounterSet<BlkRefusal> refusals;

    /**
     * @param counters where to allocate
     * @param prefix   e.g. {@code "blk[/tmp/vb.sock] q0"}
     */
    public BlkQueueCounters(final Counters counters, final String prefix) {
        super(counters, Kind.class, prefix, CounterType.QUEUE);
        refusals = new CounterSet<>(counters, BlkRefusal.class, prefix, CounterType.QUEUE);
    }

    /** Counts {@code count} kicks. */
    public void kicked(final long count) {
        add(Kind.KICKS, count);
    }

    void refuse(final BlkRefusal reason) {
        refusals.increment(reason);
    }

    /** @return requests refused for {@code reason} */
    public long refused(final BlkRefusal reason) {
        return refusals.get(reason);
    }

    /** @return every refused request */
    public long refusedTotal() {
        return refusals.total();
    }

    /** @return IN requests completed */
    public long reads() {
        return get(Kind.READS);
    }

    /** @return OUT requests completed */
    public long writes() {
        return get(Kind.WRITES);
    }

    /** @return FLUSH requests completed */
    public long flushes() {
        return get(Kind.FLUSHES);
    }

    /** @return DISCARD requests completed */
    public long discards() {
        return get(Kind.DISCARDS);
    }

    /** @return WRITE_ZEROES requests completed */
    public long writeZeroes() {
        return get(Kind.WRITE_ZEROES);
    }

    /** @return requests the backend failed */
    public long ioErrors() {
        return get(Kind.IO_ERRORS);
    }

    /** @return batches of completions published (each with one interrupt decision) */
    public long batches() {
        return get(Kind.BATCHES);
    }

    /** @return interrupts raised */
    public long interrupts() {
        return get(Kind.INTERRUPTS);
    }

    @Override
    public void close() {
        refusals.close();
        super.close();
    }
}

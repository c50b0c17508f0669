package io.vioplane.virtioblk.engine;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtioblk.BlkRefusal;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The counters of one virtio-blk request queue, published for {@code vioplane stat}: requests and bytes by
 * kind, refusals by reason (named after who was at fault), backend errors, kicks, interrupts, batches. Written
 * only by the data-plane thread.
 */
public final class BlkQueueCounters {
    final AtomicCounter reads;
    final AtomicCounter writes;
    final AtomicCounter flushes;
    final AtomicCounter discards;
    final AtomicCounter writeZeroes;
    final AtomicCounter getIds;
    final AtomicCounter bytesRead;
    final AtomicCounter bytesWritten;
    final AtomicCounter ioErrors;
    final AtomicCounter kicks;
    final AtomicCounter interrupts;
    final AtomicCounter batches;
    final AtomicCounter ringViolations;
    private final AtomicCounter[] refused;

    /**
     * @param counters where to allocate
     * @param prefix   e.g. {@code "blk[/tmp/vb.sock] q0"}
     */
    public BlkQueueCounters(final Counters counters, final String prefix) {
        reads = counters.counter(prefix + " reads", CounterType.QUEUE);
        writes = counters.counter(prefix + " writes", CounterType.QUEUE);
        flushes = counters.counter(prefix + " flushes", CounterType.QUEUE);
        discards = counters.counter(prefix + " discards", CounterType.QUEUE);
        writeZeroes = counters.counter(prefix + " write-zeroes", CounterType.QUEUE);
        getIds = counters.counter(prefix + " get-id", CounterType.QUEUE);
        bytesRead = counters.counter(prefix + " bytes read", CounterType.QUEUE);
        bytesWritten = counters.counter(prefix + " bytes written", CounterType.QUEUE);
        ioErrors = counters.counter(prefix + " errors: backend I/O failed", CounterType.QUEUE);
        kicks = counters.counter(prefix + " kicks", CounterType.QUEUE);
        interrupts = counters.counter(prefix + " interrupts", CounterType.QUEUE);
        batches = counters.counter(prefix + " completion batches", CounterType.QUEUE);
        ringViolations = counters.counter(prefix + " ring violations", CounterType.QUEUE);
        final BlkRefusal[] reasons = BlkRefusal.values();
        refused = new AtomicCounter[reasons.length];
        for (BlkRefusal reason : reasons) {
            refused[reason.ordinal()] = counters.counter(prefix + " refused: " + reason.description(),
                    CounterType.QUEUE);
        }
    }

    /** Counts {@code count} kicks. */
    public void kicked(final long count) {
        kicks.getAndAddRelease(count);
    }

    /** @return requests refused for {@code reason} */
    public long refused(final BlkRefusal reason) {
        return refused[reason.ordinal()].get();
    }

    void refuse(final BlkRefusal reason) {
        refused[reason.ordinal()].incrementRelease();
    }

    /** @return every refused request */
    public long refusedTotal() {
        long total = 0;
        for (AtomicCounter counter : refused) {
            total += counter.get();
        }
        return total;
    }

    /** @return IN requests completed */
    public long reads() {
        return reads.get();
    }

    /** @return OUT requests completed */
    public long writes() {
        return writes.get();
    }

    /** @return FLUSH requests completed */
    public long flushes() {
        return flushes.get();
    }

    /** @return DISCARD requests completed */
    public long discards() {
        return discards.get();
    }

    /** @return WRITE_ZEROES requests completed */
    public long writeZeroes() {
        return writeZeroes.get();
    }

    /** @return requests the backend failed */
    public long ioErrors() {
        return ioErrors.get();
    }

    /** @return batches of completions published (each with one interrupt decision) */
    public long batches() {
        return batches.get();
    }

    /** @return interrupts raised */
    public long interrupts() {
        return interrupts.get();
    }
}

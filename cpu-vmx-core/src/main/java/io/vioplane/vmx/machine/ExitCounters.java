package io.vioplane.vmx.machine;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.vmx.exit.ExitReason;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A machine's exit and fault counters in the process's {@link Counters} (so {@code vioplane stat} shows them
 * while the guest runs): one per VT-x basic exit reason seen, allocated on its first exit, and one per kind of
 * guest fault the VMM refused. Single writer: the vCPU thread.
 */
public final class ExitCounters implements AutoCloseable {
    private static final int KVM_INTERNAL_SLOT = ExitReason.BASIC_REASON_LIMIT;

    private final Counters counters;
    private final String machineName;
    private final AtomicCounter[] byReason = new AtomicCounter[ExitReason.BASIC_REASON_LIMIT + 1];
    private final Map<String, AtomicCounter> faults = new LinkedHashMap<>();

    public ExitCounters(final Counters counters, final String machineName) {
        this.counters = counters;
        this.machineName = machineName;
    }

    /** Counts one exit of basic reason {@code reason}. */
    public void exit(final int reason) {
        final int slot = slot(reason);
        AtomicCounter counter = byReason[slot];
        if (counter == null) {
            counter = counters.counter("vmx exit " + ExitReason.name(reason) + " (" + reason + ") vm=" + machineName,
                    CounterType.DEVICE);
            byReason[slot] = counter;
        }
        counter.incrementRelease();
    }

    /** Counts one guest fault of kind {@code kind} (e.g. "unclaimed-mmio"). */
    public void fault(final String kind) {
        faults.computeIfAbsent(kind, k -> counters.counter("vmm fault " + k + " vm=" + machineName, CounterType.DEVICE))
                .incrementRelease();
    }

    /** @return exits so far of basic reason {@code reason} */
    public long exits(final int reason) {
        final AtomicCounter counter = byReason[slot(reason)];
        return counter == null ? 0 : counter.get();
    }

    /** @return exits so far by reason, in reason order, reasons never seen left out */
    public Map<Integer, Long> exitsByReason() {
        final Map<Integer, Long> result = new LinkedHashMap<>();
        for (int slot = 0; slot < byReason.length; slot++) {
            if (byReason[slot] != null) {
                result.put(slot == KVM_INTERNAL_SLOT ? ExitReason.KVM_INTERNAL_ERROR : slot, byReason[slot].get());
            }
        }
        return result;
    }

    /** @return faults so far of kind {@code kind} */
    public long faults(final String kind) {
        final AtomicCounter counter = faults.get(kind);
        return counter == null ? 0 : counter.get();
    }

    private static int slot(final int reason) {
        return reason >= 0 && reason < ExitReason.BASIC_REASON_LIMIT ? reason : KVM_INTERNAL_SLOT;
    }

    /** Frees every counter's slot. */
    @Override
    public void close() {
        for (AtomicCounter counter : byReason) {
            if (counter != null) {
                counters.free(counter);
            }
        }
        faults.values().forEach(counters::free);
    }
}

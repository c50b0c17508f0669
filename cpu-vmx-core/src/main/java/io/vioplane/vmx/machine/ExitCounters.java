package io.vioplane.vmx.machine;

import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A machine's exit and fault counters, two {@link CounterSet}s in the process's {@link Counters} (so
 * {@code vioplane stat} shows them while the guest runs): exits by VT-x basic reason ({@link VmxExitCounter}) and
 * guest faults the VMM refused ({@link GuestFault}). Single writer: the vCPU thread.
 */
public final class ExitCounters implements AutoCloseable {
    private final CounterSet<VmxExitCounter> exits;
    private final CounterSet<GuestFault> faults;

    /** @param machineName prefixes every label ("vm[hello.elf] vmx exits: hlt (12)") */
    public ExitCounters(final Counters counters, final String machineName) {
        this.exits = new CounterSet<>(counters, VmxExitCounter.class, "vm[" + machineName + "]", CounterType.DEVICE);
        CounterSet<GuestFault> created = null;
        try {
            created = new CounterSet<>(counters, GuestFault.class, "vm[" + machineName + "]", CounterType.DEVICE);
        } finally {
            if (created == null) {
                exits.close();
            }
        }
        this.faults = created;
    }

    /** Counts one exit of basic reason {@code reason}. */
    public void exit(final int reason) {
        exits.increment(VmxExitCounter.of(reason));
    }

    /** Counts one guest fault. */
    public void fault(final GuestFault fault) {
        faults.increment(fault);
    }

    /** @return exits so far of basic reason {@code reason} */
    public long exits(final int reason) {
        return exits.get(VmxExitCounter.of(reason));
    }

    /** @return exits so far by reason (-1 for reasons without their own counter), reasons never seen left out */
    public Map<Integer, Long> exitsByReason() {
        final Map<Integer, Long> result = new LinkedHashMap<>();
        for (VmxExitCounter counter : VmxExitCounter.values()) {
            final long count = exits.get(counter);
            if (count != 0) {
                result.put(counter.reason(), count);
            }
        }
        return result;
    }

    /** @return faults so far of kind {@code fault} */
    public long faults(final GuestFault fault) {
        return faults.get(fault);
    }

    /** Frees every counter's slot; the values stay readable. */
    @Override
    public void close() {
        exits.close();
        faults.close();
    }
}

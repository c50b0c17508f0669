package io.vioplane.perf.vmx;

import io.vioplane.vmx.machine.BusDevice;

import java.util.function.LongSupplier;

/**
 * The bench device the exit_loop guest drives ({@code cpu-vmx-core/src/main/guest/programs/exit_loop.c}), at
 * {@link #GPA}: it tells the guest how many rounds and writes to run, serves the measured write with a handler
 * that only stores the value (the same as minivmm.c's), and at each phase's BEGIN and END write samples the
 * monotonic clock, KVM's {@code exits} and {@code mmio_exits} statistics and the VMM's own EPT-violation counter.
 * With an {@link IrqfdResponder} it also offers the irqfd phase (IRQ_VECTOR not 0).
 *
 * <pre>
 *   0x00 r4 ROUNDS   0x04 r4 ITERATIONS   0x08 w4 BEGIN   0x0C w4 END   0x10 w4 LOOP   0x14 r4 IRQ_VECTOR
 * </pre>
 *
 * Results are kept in arrays sized at construction: nothing is allocated while the guest runs.
 */
public final class ExitLoopDevice implements BusDevice {
    public static final long GPA = 0xD010_0000L;
    public static final long SIZE_BYTES = 0x1000;
    /** The address exit_loop's second phase writes; an ioeventfd claims it. */
    public static final long IOEVENTFD_GPA = 0xD020_0000L;
    /** The irqfd phase's kick; an ioeventfd claims it and the notifier thread answers it. */
    public static final long KICK_GPA = 0xD030_0000L;
    /** The vector the irqfd phase's MSI carries. */
    public static final int IRQ_VECTOR = 0x40;
    public static final int PHASE_MMIO = 0;
    public static final int PHASE_IOEVENTFD = 1;
    public static final int PHASE_IRQFD = 2;
    public static final int PHASES = 3;
    /** Per phase result: ns, KVM exits, KVM MMIO exits, VMM MMIO (EPT-violation) exits. */
    public static final int NS = 0;
    public static final int KVM_EXITS = 1;
    public static final int KVM_MMIO_EXITS = 2;
    public static final int VMM_MMIO_EXITS = 3;

    private final int rounds;
    private final int writes;
    private final LongSupplier kvmExits;
    private final LongSupplier kvmMmioExits;
    private final LongSupplier vmmMmioExits;
    private final long[][][] results;
    private final long[] begin = new long[4];
    private final boolean offersIrqfd;
    private long lastValue;

    /**
     * @param offersIrqfd whether the VMM answers kicks at {@link #KICK_GPA} with an MSI to {@link #IRQ_VECTOR}
     * @param kvmExits    and the other suppliers read the counters at BEGIN and END (vCPU thread, in the exit)
     */
    public ExitLoopDevice(final int rounds, final int writes, final boolean offersIrqfd, final LongSupplier kvmExits,
                          final LongSupplier kvmMmioExits, final LongSupplier vmmMmioExits) {
        this.offersIrqfd = offersIrqfd;
        this.rounds = rounds;
        this.writes = writes;
        this.kvmExits = kvmExits;
        this.kvmMmioExits = kvmMmioExits;
        this.vmmMmioExits = vmmMmioExits;
        this.results = new long[rounds][PHASES][4];
    }

    @Override
    public long read(final long offset, final int sizeBytes) {
        return offset == 0x00 ? rounds : offset == 0x04 ? writes : offset == 0x14 ? (offersIrqfd ? IRQ_VECTOR : 0) : -1L;
    }

    @Override
    public void write(final long offset, final int sizeBytes, final long value) {
        if (offset == 0x10) {
            lastValue = value;
        } else if (offset == 0x08) {
            begin[VMM_MMIO_EXITS] = vmmMmioExits.getAsLong();
            begin[KVM_EXITS] = kvmExits.getAsLong();
            begin[KVM_MMIO_EXITS] = kvmMmioExits.getAsLong();
            begin[NS] = System.nanoTime();
        } else if (offset == 0x0C) {
            final long endNs = System.nanoTime();
            final int round = (int) (value >>> 8);
            final int phase = (int) (value & 0xFF);
            if (round < rounds && phase < PHASES) {
                final long[] r = results[round][phase];
                r[NS] = endNs - begin[NS];
                r[KVM_EXITS] = kvmExits.getAsLong() - begin[KVM_EXITS];
                r[KVM_MMIO_EXITS] = kvmMmioExits.getAsLong() - begin[KVM_MMIO_EXITS];
                r[VMM_MMIO_EXITS] = vmmMmioExits.getAsLong() - begin[VMM_MMIO_EXITS];
            }
        }
    }

    /** @return round {@code round}'s figures of {@code phase}, indexed by {@link #NS} and the others */
    public long[] result(final int round, final int phase) {
        return results[round][phase];
    }

    /** @return the last value the guest wrote to LOOP */
    public long lastValue() {
        return lastValue;
    }
}

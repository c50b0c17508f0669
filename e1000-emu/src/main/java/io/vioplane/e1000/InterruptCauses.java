package io.vioplane.e1000;

import io.vioplane.platform.runtime.CounterSet;

import static io.vioplane.e1000.E1000Registers.*;

/**
 * ICR, ICS, IMS and IMC (SDM 13.4.17-13.4.21) with interrupt moderation (SDM 3.2.7 receive timers RDTR/RADV,
 * 3.4.3 transmit timers TIDV/TADV, 13.4.18 throttling ITR).
 *
 * <ul>
 *   <li>A cause becomes visible in ICR when it is released; the line is asserted exactly while ICR &amp; IMS != 0.
 *   <li>RXT0 waits RDTR x 1.024 us after the last frame (restarted by each frame) but no longer than RADV x 1.024 us
 *       after the first; with RDTR 0 it is immediate. TXDW from a descriptor with IDE waits TIDV x 1.024 us
 *       (restarted), capped by TADV; without IDE it is immediate.
 *   <li>With ITR != 0 a cause that would assert a deasserted line is held until ITR x 256 ns after the previous
 *       assertion.
 *   <li>Reading ICR returns the causes (and INT_ASSERTED while asserted) and clears them; writing ICR clears the
 *       written bits; ICS sets causes; IMS/IMC set/clear mask bits.
 * </ul>
 * Timers are evaluated against a {@link DeviceClock} by {@link #tick()}; {@link #nextDeadlineNs()} says when.
 */
final class InterruptCauses {
    /** No deadline. */
    static final long NEVER = Long.MAX_VALUE;
    private static final long TIMER_UNIT_NS = 1024;
    private static final long ITR_UNIT_NS = 256;

    private final int[] values;
    private final DeviceClock clock;
    private final InterruptLine line;
    private final CounterSet<E1000Counter> counters;
    private boolean asserted;
    private int throttled;
    private long throttleUntilNs = Long.MIN_VALUE;
    private int rxDelayed;
    private long rxDeadlineNs = NEVER;
    private long rxAbsoluteNs = NEVER;
    private int txDelayed;
    private long txDeadlineNs = NEVER;
    private long txAbsoluteNs = NEVER;

    InterruptCauses(final int[] values, final DeviceClock clock, final InterruptLine line,
                    final CounterSet<E1000Counter> counters) {
        this.values = values;
        this.clock = clock;
        this.line = line;
        this.counters = counters;
    }

    private int reg(final int offset) {
        return values[offset >>> 2];
    }

    /** Raises {@code causes} now (subject only to ITR). */
    void raise(final int causes) {
        release(causes & ICR_CAUSES, clock.nanoTime());
    }

    /** Raises RXT0 subject to RDTR/RADV, with {@code immediate} causes (RXDMT0, RXO) now. */
    void raiseReceive(final int immediate) {
        final long now = clock.nanoTime();
        final long delay = reg(RDTR) & 0xFFFF;
        if (delay == 0) {
            release(ICR_RXT0 | immediate, now);
            return;
        }
        rxDelayed |= ICR_RXT0;
        rxDeadlineNs = now + delay * TIMER_UNIT_NS;
        final long absolute = reg(RADV) & 0xFFFF;
        if (absolute != 0 && rxAbsoluteNs == NEVER) {
            rxAbsoluteNs = now + absolute * TIMER_UNIT_NS;
        }
        release(immediate, now);
        tick();
    }

    /** Raises TXDW subject to TIDV/TADV when {@code delayed} (the descriptor had IDE), with others now. */
    void raiseTransmit(final int causes, final boolean delayed) {
        final long now = clock.nanoTime();
        final long delay = reg(TIDV) & 0xFFFF;
        if (!delayed || delay == 0 || (causes & ICR_TXDW) == 0) {
            release(causes, now);
            return;
        }
        txDelayed |= ICR_TXDW;
        txDeadlineNs = now + delay * TIMER_UNIT_NS;
        final long absolute = reg(TADV) & 0xFFFF;
        if (absolute != 0 && txAbsoluteNs == NEVER) {
            txAbsoluteNs = now + absolute * TIMER_UNIT_NS;
        }
        release(causes & ~ICR_TXDW, now);
        tick();
    }

    /** Releases every cause whose timer expired. */
    void tick() {
        final long now = clock.nanoTime();
        int due = 0;
        if (rxDelayed != 0 && (now >= rxDeadlineNs || now >= rxAbsoluteNs)) {
            due |= rxDelayed;
            rxDelayed = 0;
            rxDeadlineNs = NEVER;
            rxAbsoluteNs = NEVER;
        }
        if (txDelayed != 0 && (now >= txDeadlineNs || now >= txAbsoluteNs)) {
            due |= txDelayed;
            txDelayed = 0;
            txDeadlineNs = NEVER;
            txAbsoluteNs = NEVER;
        }
        release(due, now);
    }

    /** @return the earliest time a held cause is due, or {@link #NEVER} */
    long nextDeadlineNs() {
        long next = NEVER;
        if (rxDelayed != 0) {
            next = Math.min(rxDeadlineNs, rxAbsoluteNs);
        }
        if (txDelayed != 0) {
            next = Math.min(next, Math.min(txDeadlineNs, txAbsoluteNs));
        }
        if (throttled != 0) {
            next = Math.min(next, throttleUntilNs);
        }
        return next;
    }

    private void release(final int causes, final long now) {
        int pending = causes | throttled;
        throttled = 0;
        if (pending == 0) {
            return;
        }
        final int itr = reg(ITR) & 0xFFFF;
        final boolean wouldAssert = !asserted && (pending & reg(IMS)) != 0;
        if (wouldAssert && itr != 0 && now < throttleUntilNs) {
            throttled = pending;
            return;
        }
        values[ICR >>> 2] |= pending;
        values[ICS >>> 2] = values[ICR >>> 2];
        updateLine(now);
    }

    private void updateLine(final long now) {
        final boolean level = (reg(ICR) & reg(IMS)) != 0;
        if (level == asserted) {
            return;
        }
        asserted = level;
        if (level) {
            counters.increment(E1000Counter.INTERRUPTS);
            throttleUntilNs = now + (reg(ITR) & 0xFFFF) * ITR_UNIT_NS;
        }
        line.set(level);
    }

    /** @return true while the line is asserted */
    boolean asserted() {
        return asserted;
    }

    /** ICR read: the causes (INT_ASSERTED while asserted), then cleared. */
    int readIcr() {
        final int value = reg(ICR) | (asserted ? ICR_INT_ASSERTED : 0);
        values[ICR >>> 2] = 0;
        values[ICS >>> 2] = 0;
        updateLine(clock.nanoTime());
        release(0, clock.nanoTime());
        return value;
    }

    /** ICR write: clears the written causes. */
    void writeIcr(final int value) {
        values[ICR >>> 2] &= ~value;
        values[ICS >>> 2] = values[ICR >>> 2];
        updateLine(clock.nanoTime());
    }

    /** ICS write: sets causes as if the hardware raised them. */
    void writeIcs(final int value) {
        raise(value);
    }

    /** IMS write: unmasks causes. */
    void writeIms(final int value) {
        values[IMS >>> 2] |= value & ICR_CAUSES;
        updateLine(clock.nanoTime());
        release(0, clock.nanoTime());
    }

    /** IMC write: masks causes. */
    void writeImc(final int value) {
        values[IMS >>> 2] &= ~value;
        updateLine(clock.nanoTime());
    }

    /** Drops every held cause and deasserts the line (device reset). */
    void reset() {
        throttled = 0;
        rxDelayed = 0;
        txDelayed = 0;
        rxDeadlineNs = rxAbsoluteNs = txDeadlineNs = txAbsoluteNs = NEVER;
        throttleUntilNs = Long.MIN_VALUE;
        if (asserted) {
            asserted = false;
            line.set(false);
        }
    }
}

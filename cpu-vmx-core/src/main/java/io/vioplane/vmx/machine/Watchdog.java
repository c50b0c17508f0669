package io.vioplane.vmx.machine;

import io.vioplane.vmx.vcpu.Vcpu;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Stops a guest that has not exited for {@code quietLimitNs}: a guest spinning in ring 3 never returns from
 * KVM_RUN by itself, so the watchdog {@link Vcpu#kick() kicks} the vCPU (immediate_exit plus a signal) and the
 * run loop, seeing {@link #fired()}, ends the run with a clear error. Time spent in the VMM's own exit handling
 * counts as quiet time too: a limit of seconds is meant.
 */
public final class Watchdog implements AutoCloseable {
    private final Vcpu vcpu;
    private final long quietLimitNs;
    private final Thread thread;
    private volatile long exitsSeen;
    private volatile boolean fired;
    private volatile boolean stopped;

    /** Starts watching {@code vcpu}. */
    public Watchdog(final Vcpu vcpu, final long quietLimitNs, final String name) {
        if (quietLimitNs <= 0) {
            throw new IllegalArgumentException("watchdog limit must be positive: " + quietLimitNs + " ns");
        }
        this.vcpu = vcpu;
        this.quietLimitNs = quietLimitNs;
        this.thread = Thread.ofPlatform().daemon().name("vioplane-watchdog-" + name).start(this::watch);
    }

    /** Notes that the guest exited (vCPU thread, each exit). */
    public void exitSeen() {
        exitsSeen = exitsSeen + 1;
    }

    /** @return whether the watchdog kicked the vCPU because the guest stayed quiet too long */
    public boolean fired() {
        return fired;
    }

    /** @return the configured limit */
    public long quietLimitNs() {
        return quietLimitNs;
    }

    private void watch() {
        final long periodNs = Math.max(TimeUnit.MILLISECONDS.toNanos(1), quietLimitNs / 4);
        long lastSeen = exitsSeen;
        long quietSinceNs = System.nanoTime();
        while (!stopped) {
            LockSupport.parkNanos(periodNs);
            final long seen = exitsSeen;
            final long nowNs = System.nanoTime();
            if (seen != lastSeen) {
                lastSeen = seen;
                quietSinceNs = nowNs;
            } else if (!stopped && nowNs - quietSinceNs >= quietLimitNs) {
                fired = true;
                vcpu.kick();
                return;
            }
        }
    }

    /** Stops watching and waits for the watchdog thread. */
    @Override
    public void close() {
        stopped = true;
        LockSupport.unpark(thread);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.vioplane.virtionet.engine;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.RingViolation;

/**
 * What every engine of a virtio-net queue shares: the device queue it serves, the interrupt it raises, its
 * counters, whether the ring is enabled (vhost-user's started-but-disabled state: process without side
 * effects), kick suppression while the data plane polls, and the once-only report of a broken ring.
 */
abstract class QueueEngine {
    /** Reports that a queue broke; called once per break. */
    @FunctionalInterface
    interface BrokenListener {
        void broken(int queueIndex, RingViolation violation);
    }

    final int queueIndex;
    final DeviceQueue queue;
    final Interrupt interrupt;
    final NetQueueCounters counters;
    private final BrokenListener brokenListener;
    volatile boolean enabled = true;
    DirtyPageLog dirtyLog = DirtyPageLog.NONE;
    private boolean notificationsEnabled = true;
    private boolean reportedBroken;

    QueueEngine(final int queueIndex, final DeviceQueue queue, final Interrupt interrupt, final NetQueueCounters counters,
                final BrokenListener brokenListener) {
        this.queueIndex = queueIndex;
        this.queue = queue;
        this.interrupt = interrupt;
        this.counters = counters;
        this.brokenListener = brokenListener;
    }

    /** Stops kicks while the data plane is busy polling this queue. */
    final void suppressKicks() {
        if (notificationsEnabled) {
            queue.disableNotifications();
            notificationsEnabled = false;
        }
    }

    /**
     * Asks for kicks again before the data plane sleeps.
     *
     * @return true if buffers became available meanwhile (not counting a chain that waits for an IOMMU translation:
     *     its arrival wakes the data plane)
     */
    final boolean armKicks() {
        notificationsEnabled = true;
        return queue.enableNotifications() && !queue.awaitingTranslation();
    }

    /** Publishes the used elements of a batch and interrupts the driver if it asked for it. */
    final void finishBatch() {
        queue.publishUsed();
        if (queue.needsInterrupt()) {
            interrupt.trigger();
            counters.increment(NetQueueCounters.Kind.INTERRUPTS);
        }
    }

    /** Logs the first {@code writtenBytes} of {@code chain}'s writable buffers as dirty. */
    final void logWritten(final DescriptorChain chain, final long writtenBytes) {
        if (dirtyLog == DirtyPageLog.NONE) {
            return;
        }
        long left = writtenBytes;
        for (int s = chain.readableCount(); s < chain.segmentCount() && left > 0; s++) {
            final long piece = Math.min(left, chain.segmentLength(s));
            dirtyLog.mark(chain.segmentGpa(s), piece);
            left -= piece;
        }
    }

    /** Reports a broken ring once. */
    final void checkBroken() {
        final RingViolation violation = queue.violation();
        if (violation != null && !reportedBroken) {
            reportedBroken = true;
            counters.increment(NetQueueCounters.Kind.RING_VIOLATIONS);
            brokenListener.broken(queueIndex, violation);
        }
    }
}

package io.vioplane.virtionet.engine;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The counters of one virtio-net queue, published for {@code vioplane stat}: frames, bytes, drops by reason
 * (named after who was at fault), kicks and interrupts. Written only by the data-plane thread.
 */
public final class NetQueueCounters implements AutoCloseable {
    private final Counters counters;
    final AtomicCounter packets;
    final AtomicCounter bytes;
    final AtomicCounter droppedByPort;
    final AtomicCounter malformedHeader;
    final AtomicCounter oversizedFrame;
    final AtomicCounter deviceOnlyFlagsCleared;
    final AtomicCounter noReceiveBuffer;
    final AtomicCounter bufferTooSmall;
    final AtomicCounter offloadUnsupported;
    final AtomicCounter filtered;
    final AtomicCounter discardedWhileDisabled;
    final AtomicCounter kicks;
    final AtomicCounter interrupts;
    final AtomicCounter ringViolations;

    /**
     * @param counters where to allocate
     * @param prefix   e.g. {@code "net[/tmp/vu.sock] q1 tx"}
     */
    public NetQueueCounters(final Counters counters, final String prefix) {
        this.counters = counters;
        packets = counters.counter(prefix + " packets", CounterType.QUEUE);
        bytes = counters.counter(prefix + " bytes", CounterType.QUEUE);
        droppedByPort = counters.counter(prefix + " drops: port refused", CounterType.QUEUE);
        malformedHeader = counters.counter(prefix + " drops: guest gave a malformed virtio-net header", CounterType.QUEUE);
        oversizedFrame = counters.counter(prefix + " drops: guest gave an oversized frame", CounterType.QUEUE);
        deviceOnlyFlagsCleared = counters.counter(prefix + " fixed: guest set DATA_VALID/RSC_INFO (cleared)",
                CounterType.QUEUE);
        noReceiveBuffer = counters.counter(prefix + " waits: guest had no receive buffer", CounterType.QUEUE);
        bufferTooSmall = counters.counter(prefix + " drops: guest receive buffer too small", CounterType.QUEUE);
        offloadUnsupported = counters.counter(prefix + " drops: offload the guest did not negotiate", CounterType.QUEUE);
        filtered = counters.counter(prefix + " drops: filtered (MAC/promiscuous settings)", CounterType.QUEUE);
        discardedWhileDisabled = counters.counter(prefix + " discarded: queue disabled", CounterType.QUEUE);
        kicks = counters.counter(prefix + " kicks", CounterType.QUEUE);
        interrupts = counters.counter(prefix + " interrupts", CounterType.QUEUE);
        ringViolations = counters.counter(prefix + " ring violations", CounterType.QUEUE);
    }

    /** @return frames carried */
    public long packets() {
        return packets.get();
    }

    /** @return bytes carried (headers excluded) */
    public long bytes() {
        return bytes.get();
    }

    /** @return interrupts (used-buffer notifications) sent */
    public long interrupts() {
        return interrupts.get();
    }

    /** @return kicks received */
    public long kicks() {
        return kicks.get();
    }

    /** @return frames the guest sent with a malformed header */
    public long malformedHeader() {
        return malformedHeader.get();
    }

    /** @return frames whose header carried device-only flags the driver may not set, cleared before forwarding */
    public long deviceOnlyFlagsCleared() {
        return deviceOnlyFlagsCleared.get();
    }

    /** @return frames dropped because the guest's receive buffers were too small */
    public long bufferTooSmall() {
        return bufferTooSmall.get();
    }

    /** @return frames the port refused */
    public long droppedByPort() {
        return droppedByPort.get();
    }

    /** @return frames that carried an offload the receiving guest did not negotiate */
    public long offloadUnsupported() {
        return offloadUnsupported.get();
    }

    /** @return frames dropped by the receive filter */
    public long filtered() {
        return filtered.get();
    }

    /** Counts a kick (the queue's kick eventfd woke the data plane). */
    public void kicked(final long count) {
        kicks.getAndAddRelease(count);
    }

    @Override
    public void close() {
        for (AtomicCounter c : new AtomicCounter[] {packets, bytes, droppedByPort, malformedHeader, oversizedFrame, deviceOnlyFlagsCleared,
                noReceiveBuffer, bufferTooSmall, offloadUnsupported, filtered, discardedWhileDisabled, kicks, interrupts,
                ringViolations}) {
            counters.free(c);
        }
    }
}

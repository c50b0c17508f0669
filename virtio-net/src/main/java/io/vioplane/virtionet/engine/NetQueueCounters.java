package io.vioplane.virtionet.engine;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;

/**
 * The counters of one virtio-net queue, published for {@code vioplane stat}: frames, bytes, drops by reason
 * (named after who was at fault), kicks and interrupts. Written only by the data-plane thread.
 */
public final class NetQueueCounters extends CounterSet<NetQueueCounters.Kind> {
    /** What a virtio-net queue counts. */
    public enum Kind implements CounterKind {
        PACKETS("packets"),
        BYTES("bytes"),
        DROPPED_BY_PORT("drops: port refused"),
        MALFORMED_HEADER("drops: guest gave a malformed virtio-net header"),
        OVERSIZED_FRAME("drops: guest gave an oversized frame"),
        DEVICE_ONLY_FLAGS_CLEARED("fixed: guest set DATA_VALID/RSC_INFO (cleared)"),
        NO_RECEIVE_BUFFER("waits: guest had no receive buffer"),
        BUFFER_TOO_SMALL("drops: guest receive buffer too small"),
        OFFLOAD_UNSUPPORTED("drops: offload the guest did not negotiate"),
        FILTERED("drops: filtered (MAC/promiscuous settings)"),
        DISCARDED_WHILE_DISABLED("discarded: queue disabled"),
        KICKS("kicks"),
        INTERRUPTS("interrupts"),
        RING_VIOLATIONS("ring violations"),
        IOMMU_DENIED("drops: guest's IOMMU mapping denies the access (request failed)");

        private final String label;

        Kind(final String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }
    }

    /**
     * @param counters where to allocate
     * @param prefix   e.g. {@code "net[/tmp/vu.sock] q1 tx"}
     */
    public NetQueueCounters(final Counters counters, final String prefix) {
        super(counters, Kind.class, prefix, CounterType.QUEUE);
    }

    /** @return frames carried */
    public long packets() {
        return get(Kind.PACKETS);
    }

    /** @return bytes carried (headers excluded) */
    public long bytes() {
        return get(Kind.BYTES);
    }

    /** @return interrupts (used-buffer notifications) sent */
    public long interrupts() {
        return get(Kind.INTERRUPTS);
    }

    /** @return kicks received */
    public long kicks() {
        return get(Kind.KICKS);
    }

    /** @return frames the guest sent with a malformed header */
    public long malformedHeader() {
        return get(Kind.MALFORMED_HEADER);
    }

    /** @return frames whose header carried device-only flags the driver may not set, cleared before forwarding */
    public long deviceOnlyFlagsCleared() {
        return get(Kind.DEVICE_ONLY_FLAGS_CLEARED);
    }

    /** @return frames dropped because the guest's receive buffers were too small */
    public long bufferTooSmall() {
        return get(Kind.BUFFER_TOO_SMALL);
    }

    /** @return frames the port refused */
    public long droppedByPort() {
        return get(Kind.DROPPED_BY_PORT);
    }

    /** @return frames that carried an offload the receiving guest did not negotiate */
    public long offloadUnsupported() {
        return get(Kind.OFFLOAD_UNSUPPORTED);
    }

    /** @return frames dropped by the receive filter */
    public long filtered() {
        return get(Kind.FILTERED);
    }

    /** Counts a kick (the queue's kick eventfd woke the data plane). */
    public void kicked(final long count) {
        add(Kind.KICKS, count);
    }
}

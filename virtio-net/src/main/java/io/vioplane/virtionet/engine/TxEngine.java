package io.vioplane.virtionet.engine;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.DeviceQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Takes frames from a guest's transmit queue to a {@link NetPort} (VIRTIO 1.x 5.1.6.2): per batch of up to
 * {@link #BATCH} chains, each header is copied out of guest memory once and checked, the frame is handed to the
 * port as a view over the guest's buffers, and every chain is returned used with length 0 in one index update.
 *
 * <p>Dropped and counted, the chain returned: a chain too short for a header and an Ethernet header, a frame
 * longer than {@link #MAX_FRAME_BYTES}, a GSO type or checksum request the guest did not negotiate or with
 * offsets outside the frame, a chain whose IOMMU mapping the device may not read. While the ring is disabled, frames are discarded (vhost-user "started but
 * disabled": no side effects).
 */
public final class TxEngine extends QueueEngine {
    /** Chains taken per duty cycle. */
    public static final int BATCH = 64;
    /** The longest frame accepted: a 64 KiB GSO payload plus an Ethernet header. */
    public static final int MAX_FRAME_BYTES = 65535 + 14;
    private static final int ETHERNET_HEADER_BYTES = 14;

    private final NetPort port;
    private final int queuePair;
    private final DescriptorChain[] chains;
    private final ChainTxFrame frame = new ChainTxFrame();
    private final MemorySegment headerScratch = Arena.ofAuto().allocate(VirtioNetHeader.BYTES, 8);
    private final boolean checksumOffload;
    private final boolean tso4;
    private final boolean tso6;
    private final boolean ufo;

    TxEngine(final int queueIndex, final DeviceQueue queue, final Interrupt interrupt, final NetQueueCounters counters,
             final BrokenListener brokenListener, final NetPort port, final NetOffloads offloads, final int maxSegments) {
        super(queueIndex, queue, interrupt, counters, brokenListener);
        this.port = port;
        this.queuePair = queueIndex / 2;
        this.chains = DescriptorChain.batch(BATCH, maxSegments);
        this.checksumOffload = offloads.hostChecksum();
        this.tso4 = offloads.hostTso4();
        this.tso6 = offloads.hostTso6();
        this.ufo = offloads.hostUfo();
    }

    /** @return chains processed */
    int process() {
        final int popped = queue.popBatch(chains, BATCH);
        if (popped == 0) {
            checkBroken();
            return 0;
        }
        long packets = 0;
        long bytes = 0;
        long malformed = 0;
        long oversized = 0;
        long refused = 0;
        long discarded = 0;
        long deviceOnlyFlags = 0;
        long denied = 0;
        final boolean on = enabled;
        for (int i = 0; i < popped; i++) {
            final DescriptorChain chain = chains[i];
            final long frameBytes = chain.readableBytes() - VirtioNetHeader.BYTES;
            if (chain.denied()) {
                denied++;
            } else if (!on) {
                discarded++;
            } else if (frameBytes < ETHERNET_HEADER_BYTES) {
                malformed++;
            } else if (frameBytes > MAX_FRAME_BYTES) {
                oversized++;
            } else {
                chain.copyFromReadable(0, headerScratch, 0, VirtioNetHeader.BYTES);
                final NetHeaderValues header = frame.headerHolder().readFrom(headerScratch, 0);
                if (header.clearDeviceOnlyFlags()) {
                    deviceOnlyFlags++;
                }
                if (!acceptable(header, (int) frameBytes)) {
                    malformed++;
                } else {
                    frame.bind(chain);
                    if (port.transmit(queuePair, frame)) {
                        packets++;
                        bytes += frameBytes;
                    } else {
                        refused++;
                    }
                }
            }
            queue.addUsed(chain, 0);
        }
        port.flush(queuePair);
        finishBatch();
        counters.add(NetQueueCounters.Kind.PACKETS, packets);
        counters.add(NetQueueCounters.Kind.BYTES, bytes);
        if (malformed + oversized + refused + discarded + deviceOnlyFlags + denied != 0) {
            counters.add(NetQueueCounters.Kind.IOMMU_DENIED, denied);
            counters.add(NetQueueCounters.Kind.DEVICE_ONLY_FLAGS_CLEARED, deviceOnlyFlags);
            counters.add(NetQueueCounters.Kind.MALFORMED_HEADER, malformed);
            counters.add(NetQueueCounters.Kind.OVERSIZED_FRAME, oversized);
            counters.add(NetQueueCounters.Kind.DROPPED_BY_PORT, refused);
            counters.add(NetQueueCounters.Kind.DISCARDED_WHILE_DISABLED, discarded);
        }
        checkBroken();
        return popped;
    }

    private boolean acceptable(final NetHeaderValues header, final int frameBytes) {
        if (header.needsChecksum()) {
            if (!checksumOffload) {
                return false;
            }
            final long end = (long) header.checksumStart() + header.checksumOffset() + 2;
            if (end > frameBytes) {
                return false;
            }
        }
        return switch (header.gsoKind()) {
            case VirtioNetHeader.GSO_NONE -> true;
            case VirtioNetHeader.GSO_TCPV4 -> tso4 && header.gsoSize() > 0;
            case VirtioNetHeader.GSO_TCPV6 -> tso6 && header.gsoSize() > 0;
            case VirtioNetHeader.GSO_UDP -> ufo && header.gsoSize() > 0;
            default -> false;
        };
    }
}

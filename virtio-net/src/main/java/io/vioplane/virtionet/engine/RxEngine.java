package io.vioplane.virtionet.engine;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.platform.packet.InternetChecksum;
import io.vioplane.virtionet.offload.TcpSegmenter;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.port.RxDestination;
import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.DeviceQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Writes frames from a {@link NetPort} into a guest's receive queue (VIRTIO 1.x 5.1.6.3 and 5.1.6.4): header
 * and frame written straight into the guest's buffers, no staging copy.
 *
 * <ul>
 *   <li>Without VIRTIO_NET_F_MRG_RXBUF, a frame needs one chain with room for the header and the whole
 *       frame; num_buffers is 1. A chain too small is given back untouched and the frame dropped
 *       (counted).</li>
 *   <li>With mergeable buffers, the frame spans as many chains as it needs, each returned with the bytes written
 *       into it; num_buffers in the first says how many. If the ring does not hold enough buffers yet,
 *       every chain taken is given back and the frame waits (nothing lost).</li>
 *   <li>Offloads the guest did not negotiate are resolved here: a checksum left to the device is completed in
 *       software and the flags cleared for a guest without GUEST_CSUM; a TCP GSO frame for a guest without the
 *       matching GUEST_TSO is segmented in software ({@link TcpSegmenter}), and if the guest runs out of buffers
 *       halfway, delivery resumes at the next segment when the port offers the frame again; a UFO frame for a
 *       guest without GUEST_UFO is dropped and counted.</li>
 *   <li>The receive filter (promiscuous, MAC tables) applies; while the ring is disabled nothing is
 *       delivered.</li>
 *   <li>A chain whose IOMMU mapping the device may not write fails: the frame is dropped and counted, and the chains
 *       taken for it are returned with nothing written.</li>
 * </ul>
 */
public final class RxEngine extends QueueEngine implements RxDestination {
    /** Frames delivered per duty cycle. */
    public static final int BATCH = 64;
    /** The most receive buffers one frame may span. */
    public static final int MAX_BUFFERS_PER_FRAME = 128;
    private static final ValueLayout.OfShort U16_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final NetPort port;
    private final int queuePair;
    private final NetOffloads offloads;
    private final RxFilter filter;
    private final boolean mergeable;
    private final DescriptorChain[] chains;
    private final int[] written;
    private final NetHeaderValues rxHeader = new NetHeaderValues();
    private final MemorySegment scratch = Arena.ofAuto().allocate(16, 8);
    private long batchPackets;
    private long batchBytes;
    private boolean deniedInBatch;
    private final TcpSegmenter segmenter = new TcpSegmenter();
    private MemorySegment segmentingSource;
    private long segmentingOffset = -1;
    private int segmentingLength;
    private int segmentsTotal;
    private int nextSegment;
    /** Receive buffers that were available, and too few, when the last frame had to wait; -1 if none waits. */
    private int buffersWhenShort = -1;

    RxEngine(final int queueIndex, final DeviceQueue queue, final Interrupt interrupt, final NetQueueCounters counters,
             final BrokenListener brokenListener, final NetPort port, final NetOffloads offloads, final RxFilter filter,
             final int maxSegments) {
        super(queueIndex, queue, interrupt, counters, brokenListener);
        this.port = port;
        this.queuePair = queueIndex / 2;
        this.offloads = offloads;
        this.filter = filter;
        this.mergeable = offloads.mergeable();
        final int maxChains = mergeable ? Math.min(MAX_BUFFERS_PER_FRAME, queue.size()) : 1;
        this.chains = DescriptorChain.batch(maxChains, maxSegments);
        this.written = new int[maxChains];
    }

    /** @return frames delivered */
    int process() {
        if (!enabled || !port.hasPending(queuePair)) {
            checkBroken();
            return 0;
        }
        final int delivered = port.receive(queuePair, this, BATCH);
        if (batchPackets > 0 || deniedInBatch) {
            deniedInBatch = false;
            finishBatch();
            counters.add(NetQueueCounters.Kind.PACKETS, batchPackets);
            counters.add(NetQueueCounters.Kind.BYTES, batchBytes);
            batchPackets = 0;
            batchBytes = 0;
        }
        checkBroken();
        return delivered;
    }

    /** @return true if the engine waits for the guest to add receive buffers */
    boolean waitingForBuffers() {
        return enabled && port.hasPending(queuePair);
    }

    /**
     * Before the data plane sleeps with a frame waiting: asks for the guest's next receive kick, counted from past
     * the buffers that were too few for that frame (with EVENT_IDX the driver kicks only when it crosses that point).
     *
     * @return true if more buffers are there already (poll again); false if only the guest's kick brings progress
     */
    boolean armKicksForBuffers() {
        if (buffersWhenShort <= 0) {
            return armKicks();
        }
        int taken = 0;
        while (taken < buffersWhenShort && queue.pop(chains[taken])) {
            taken++;
        }
        final boolean more = armKicks();
        giveBack(taken);
        return more || queue.violation() != null;
    }

    @Override
    public boolean hasRoom() {
        return enabled && queue.hasAvailable();
    }

    @Override
    public boolean deliver(final MemorySegment source, final long offset, final int lengthBytes,
                           final NetHeaderValues header) {
        if (!enabled) {
            return false;
        }
        if (!filter.accepts(source, offset, lengthBytes)) {
            counters.increment(NetQueueCounters.Kind.FILTERED);
            return true;
        }
        if (header.isGso() && !guestTakes(header.gsoKind())) {
            return deliverSegmented(source, offset, lengthBytes, header);
        }
        return deliverOne(source, offset, lengthBytes, header);
    }

    private boolean deliverSegmented(final MemorySegment source, final long offset, final int lengthBytes,
                                     final NetHeaderValues header) {
        if (source != segmentingSource || offset != segmentingOffset || lengthBytes != segmentingLength) {
            final int kind = header.gsoKind();
            final int count = kind == VirtioNetHeader.GSO_TCPV4 || kind == VirtioNetHeader.GSO_TCPV6
                    ? segmenter.prepare(source, offset, lengthBytes, header) : 0;
            if (count == 0) {
                counters.increment(NetQueueCounters.Kind.OFFLOAD_UNSUPPORTED);
                return true;
            }
            segmentingSource = source;
            segmentingOffset = offset;
            segmentingLength = lengthBytes;
            segmentsTotal = count;
            nextSegment = 0;
        }
        while (nextSegment < segmentsTotal) {
            final int length = segmenter.build(nextSegment, offloads.guestChecksum());
            if (!deliverOne(segmenter.buffer(), 0, length, segmenter.header())) {
                return false;
            }
            nextSegment++;
        }
        segmentingSource = null;
        segmentingOffset = -1;
        return true;
    }

    private boolean deliverOne(final MemorySegment source, final long offset, final int lengthBytes,
                               final NetHeaderValues header) {
        final boolean completeChecksum = header.needsChecksum() && !offloads.guestChecksum();
        rxHeader.copyFrom(header);
        if (completeChecksum || !offloads.guestChecksum()) {
            rxHeader.checksumComplete(false);
        }
        final long total = VirtioNetHeader.BYTES + (long) lengthBytes;
        final int count = mergeable ? takeBuffers(total) : takeOneBuffer(total);
        if (count <= 0) {
            return count < 0;
        }
        rxHeader.writeTo(scratch, 0, count);
        writeAcross(count, source, offset, lengthBytes);
        if (completeChecksum) {
            final int start = header.checksumStart();
            final int value = InternetChecksum.finish(
                    InternetChecksum.sum(source, offset + start, lengthBytes - start, 0));
            scratch.set(U16_BE, 12, (short) value);
            patchAcross(count, VirtioNetHeader.BYTES + start + header.checksumOffset());
        }
        for (int i = 0; i < count; i++) {
            logWritten(chains[i], written[i]);
            queue.addUsed(chains[i], written[i]);
        }
        batchPackets++;
        batchBytes += lengthBytes;
        return true;
    }

    private boolean guestTakes(final int gsoKind) {
        return switch (gsoKind) {
            case VirtioNetHeader.GSO_TCPV4 -> offloads.guestTso4();
            case VirtioNetHeader.GSO_TCPV6 -> offloads.guestTso6();
            case VirtioNetHeader.GSO_UDP -> offloads.guestUfo();
            default -> false;
        };
    }

    /** @return 1 with a buffer taken, 0 if none is available (wait), -1 if the frame was dropped */
    private int takeOneBuffer(final long total) {
        final DescriptorChain chain = chains[0];
        if (!queue.pop(chain)) {
            counters.increment(NetQueueCounters.Kind.NO_RECEIVE_BUFFER);
            buffersWhenShort = 0;
            return 0;
        }
        if (chain.denied()) {
            failDenied(1);
            return -1;
        }
        if (chain.writableBytes() < total) {
            queue.rewind(chain);
            counters.increment(NetQueueCounters.Kind.BUFFER_TOO_SMALL);
            return -1;
        }
        buffersWhenShort = -1;
        return 1;
    }

    /** @return buffers taken, 0 if too few are available (all given back: wait), -1 if the frame was dropped */
    private int takeBuffers(final long total) {
        long room = 0;
        int count = 0;
        while (room < total) {
            if (count == chains.length) {
                giveBack(count);
                counters.increment(NetQueueCounters.Kind.BUFFER_TOO_SMALL);
                return -1;
            }
            if (!queue.pop(chains[count])) {
                giveBack(count);
                counters.increment(NetQueueCounters.Kind.NO_RECEIVE_BUFFER);
                buffersWhenShort = count;
                return 0;
            }
            room += chains[count].writableBytes();
            count++;
            if (chains[count - 1].denied()) {
                failDenied(count);
                return -1;
            }
        }
        buffersWhenShort = -1;
        return count;
    }

    /**
     * A chain's IOMMU mapping forbids the device to write it: the frame is dropped and every chain taken for it, the
     * denied one last, is returned used with nothing written (in ring order, as IN_ORDER requires).
     */
    private void failDenied(final int count) {
        for (int i = 0; i < count; i++) {
            queue.addUsed(chains[i], 0);
        }
        counters.increment(NetQueueCounters.Kind.IOMMU_DENIED);
        buffersWhenShort = -1;
        deniedInBatch = true;
    }

    private void giveBack(final int count) {
        for (int i = count - 1; i >= 0; i--) {
            queue.rewind(chains[i]);
        }
    }

    private void writeAcross(final int count, final MemorySegment source, final long offset, final int lengthBytes) {
        long headerLeft = VirtioNetHeader.BYTES;
        long frameDone = 0;
        for (int c = 0; c < count; c++) {
            final DescriptorChain chain = chains[c];
            final long space = chain.writableBytes();
            long at = 0;
            if (headerLeft > 0) {
                final long piece = Math.min(headerLeft, space);
                chain.copyToWritable(0, scratch, VirtioNetHeader.BYTES - headerLeft, piece);
                headerLeft -= piece;
                at = piece;
            }
            final long piece = Math.min(space - at, lengthBytes - frameDone);
            if (piece > 0) {
                chain.copyToWritable(at, source, offset + frameDone, piece);
                frameDone += piece;
                at += piece;
            }
            written[c] = (int) at;
        }
    }

    /** Writes the two checksum bytes held at scratch[12..14) at {@code position} of the written run. */
    private void patchAcross(final int count, final long position) {
        long skip = position;
        for (int b = 0; b < 2; b++) {
            long at = skip + b;
            for (int c = 0; c < count; c++) {
                if (at < written[c]) {
                    chains[c].copyToWritable(at, scratch, 12 + b, 1);
                    break;
                }
                at -= written[c];
            }
        }
    }
}

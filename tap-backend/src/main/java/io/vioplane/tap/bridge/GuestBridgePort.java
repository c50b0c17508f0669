package io.vioplane.tap.bridge;

import io.vioplane.virtionet.port.FlowHash;
import io.vioplane.virtionet.port.FrameRing;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.port.RxDestination;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A guest's port on a {@link Bridge}: the {@link NetPort} under the guest's virtio-net device. Frames the guest
 * sends go into the bridge; frames the bridge sends this guest wait in a {@link FrameRing} until the guest has
 * receive buffers (a full ring drops and counts, the guest is not reading).
 *
 * <p>A multi-queue guest has one ring per queue pair; a frame goes to the ring of its flow's queue among the pairs
 * that receive now ({@link FlowHash} modulo {@link #receivePairs}), the way a NIC's receive-side scaling spreads
 * flows, so every pair the guest enabled gets traffic and each flow stays in order. When the guest uses fewer
 * pairs, frames already waiting for a pair it gave up are delivered by its last receiving pair: none is lost.
 */
public final class GuestBridgePort implements NetPort, BridgeMember, AutoCloseable {
    private final String name;
    private final Bridge bridge;
    private final FrameRing[] toGuest;
    private final int maxFrameBytes;
    private final int index;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment headerScratch;
    private int receivePairs = 1;

    /**
     * Joins the bridge, for a guest with one queue pair.
     *
     * @param name             the port's name ("vm0")
     * @param mtu              the guest's MTU (frames above it plus an Ethernet header and VLAN tag are dropped)
     * @param antiSpoofMac     the guest's MAC, enforced as the only source address; null for no enforcement
     * @param queuedFrames     frames that can wait for the guest
     */
    public GuestBridgePort(final String name, final Bridge bridge, final int mtu, final byte[] antiSpoofMac,
                           final int queuedFrames) {
        this(name, bridge, mtu, antiSpoofMac, queuedFrames, 1);
    }

    /**
     * Joins the bridge, for a guest with {@code queuePairs} queue pairs.
     *
     * @param queuedFrames frames that can wait for each queue pair
     */
    public GuestBridgePort(final String name, final Bridge bridge, final int mtu, final byte[] antiSpoofMac,
                           final int queuedFrames, final int queuePairs) {
        if (queuePairs < 1) {
            throw new IllegalArgumentException("a guest port needs at least one queue pair: " + queuePairs);
        }
        this.name = name;
        this.bridge = bridge;
        this.maxFrameBytes = mtu + 18;
        this.toGuest = new FrameRing[queuePairs];
        for (int pair = 0; pair < queuePairs; pair++) {
            toGuest[pair] = new FrameRing(queuedFrames, 65536 + 18);
        }
        this.headerScratch = arena.allocate(FlowHash.HEADER_BYTES);
        this.index = bridge.join(this, antiSpoofMac);
    }

    /** @return the port's index in the bridge */
    public int index() {
        return index;
    }

    @Override
    public boolean transmit(final int queuePair, final TxFrame frame) {
        return bridge.forward(index, frame);
    }

    /** Ends the guest's transmit batch: the bridge's ports write what they queued before the buffers go back. */
    @Override
    public void flush(final int queuePair) {
        bridge.flush();
    }

    @Override
    public int receive(final int queuePair, final RxDestination destination, final int max) {
        if (queuePair < 0 || queuePair >= toGuest.length) {
            return 0;
        }
        int delivered = toGuest[queuePair].deliverTo(destination, max);
        if (queuePair == lastReceivingPair()) {
            for (int orphaned = queuePair + 1; orphaned < toGuest.length && delivered < max; orphaned++) {
                delivered += toGuest[orphaned].deliverTo(destination, max - delivered);
            }
        }
        return delivered;
    }

    @Override
    public boolean hasPending(final int queuePair) {
        if (queuePair < 0 || queuePair >= toGuest.length) {
            return false;
        }
        if (!toGuest[queuePair].isEmpty()) {
            return true;
        }
        if (queuePair == lastReceivingPair()) {
            for (int orphaned = queuePair + 1; orphaned < toGuest.length; orphaned++) {
                if (!toGuest[orphaned].isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public void receivePairs(final int pairs) {
        this.receivePairs = Math.max(1, Math.min(pairs, toGuest.length));
    }

    private int lastReceivingPair() {
        return receivePairs - 1;
    }

    @Override
    public boolean egress(final TxFrame frame) {
        if (receivePairs == 1) {
            return toGuest[0].offer(frame);
        }
        final int headerBytes = Math.min(frame.lengthBytes(), FlowHash.HEADER_BYTES);
        frame.copyTo(0, headerScratch, 0, headerBytes);
        return toGuest[FlowHash.of(headerScratch, headerBytes) % receivePairs].offer(frame);
    }

    /** @return frames waiting for queue pair {@code queuePair} (tests and counters) */
    public int waitingFor(final int queuePair) {
        return toGuest[queuePair].size();
    }

    @Override
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {
        for (FrameRing ring : toGuest) {
            ring.close();
        }
        arena.close();
    }
}

package io.vioplane.tap.bridge;

import io.vioplane.virtionet.port.FrameRing;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.port.RxDestination;
import io.vioplane.virtionet.port.TxFrame;

/**
 * A guest's port on a {@link Bridge}: the {@link NetPort} under the guest's virtio-net device. Frames the guest
 * sends go into the bridge; frames the bridge sends this guest wait in a {@link FrameRing} until the guest has
 * receive buffers (a full ring drops and counts, the guest is not reading). Frames for a multi-queue guest go to
 * queue pair 0.
 */
public final class GuestBridgePort implements NetPort, BridgeMember, AutoCloseable {
    private final String name;
    private final Bridge bridge;
    private final FrameRing toGuest;
    private final int maxFrameBytes;
    private final int index;

    /**
     * Joins the bridge.
     *
     * @param name             the port's name ("vm0")
     * @param mtu              the guest's MTU (frames above it plus an Ethernet header and VLAN tag are dropped)
     * @param antiSpoofMac     the guest's MAC, enforced as the only source address; null for no enforcement
     * @param queuedFrames     frames that can wait for the guest
     */
    public GuestBridgePort(final String name, final Bridge bridge, final int mtu, final byte[] antiSpoofMac,
                           final int queuedFrames) {
        this.name = name;
        this.bridge = bridge;
        this.maxFrameBytes = mtu + 18;
        this.toGuest = new FrameRing(queuedFrames, 65536 + 18);
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
        return queuePair == 0 ? toGuest.deliverTo(destination, max) : 0;
    }

    @Override
    public boolean hasPending(final int queuePair) {
        return queuePair == 0 && !toGuest.isEmpty();
    }

    @Override
    public boolean egress(final TxFrame frame) {
        return toGuest.offer(frame);
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
        toGuest.close();
    }
}

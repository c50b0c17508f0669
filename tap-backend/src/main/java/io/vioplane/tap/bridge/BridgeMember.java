package io.vioplane.tap.bridge;

import io.vioplane.virtionet.port.TxFrame;

/**
 * One port of a {@link Bridge}, as the bridge sees it: where frames leave the bridge (a guest's receive side,
 * a TAP device). Called on the bridge's data-plane thread.
 */
public interface BridgeMember {
    /**
     * Takes a frame out of the bridge toward this port; the frame is a view valid only during the call.
     *
     * @return false if the port could not take it (full): the bridge counts the drop
     */
    boolean egress(TxFrame frame);

    /**
     * Writes out what {@link #egress} queued. The bridge calls it when the producer of a batch flushes: frames
     * that were {@link TxFrame#stableUntilFlush() stable} must be written before this returns.
     */
    default void flush() {
    }

    /** @return the largest frame this port accepts, Ethernet header included (MTU + 14, + 4 for a VLAN tag) */
    int maxFrameBytes();

    /** @return the port's name, for counters */
    String name();
}

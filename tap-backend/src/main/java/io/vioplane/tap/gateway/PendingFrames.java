package io.vioplane.tap.gateway;

import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.Wire;
import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Frames toward the host link that wait for their next hop's ARP answer (RFC 1122 2.3.2.2: "SHOULD save at
 * least one packet"), a few at a time: when the answer comes they leave in arrival order; after the give-up time
 * they are dropped. Native slots allocated once.
 */
final class PendingFrames implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment slots;
    private final int slotBytes;
    private final int[] nextHops;
    private final int[] lengths;
    private final long[] heldNs;
    private final long[] order;
    private final boolean[] used;
    private final NetHeaderValues[] headers;
    private long sequence;
    private int count;

    PendingFrames(final int frames, final int slotBytes) {
        this.slotBytes = slotBytes;
        this.slots = arena.allocate((long) frames * slotBytes, 64);
        this.nextHops = new int[frames];
        this.lengths = new int[frames];
        this.heldNs = new long[frames];
        this.order = new long[frames];
        this.used = new boolean[frames];
        this.headers = new NetHeaderValues[frames];
        for (int i = 0; i < frames; i++) {
            headers[i] = new NetHeaderValues();
        }
    }

    /**
     * Keeps a copy of a frame until {@code nextHop} is resolved.
     *
     * @return false if every slot is taken or the frame is too long
     */
    boolean hold(final MemorySegment frame, final long offset, final int lengthBytes, final NetHeaderValues header,
                 final int nextHop, final long nowNs) {
        if (lengthBytes > slotBytes) {
            return false;
        }
        for (int i = 0; i < used.length; i++) {
            if (!used[i]) {
                MemorySegment.copy(frame, offset, slots, (long) i * slotBytes, lengthBytes);
                headers[i].copyFrom(header);
                nextHops[i] = nextHop;
                lengths[i] = lengthBytes;
                heldNs[i] = nowNs;
                order[i] = sequence++;
                used[i] = true;
                count++;
                return true;
            }
        }
        return false;
    }

    /** Receives each frame released by {@link #release}. */
    interface Sender {
        void send(MemorySegment frame, long offset, int lengthBytes, NetHeaderValues header);
    }

    /**
     * Sends, oldest first, every frame waiting for {@code nextHop}, with {@code mac} as its Ethernet destination.
     *
     * @return frames sent
     */
    int release(final int nextHop, final long mac, final Sender sender) {
        int sent = 0;
        while (true) {
            int oldest = -1;
            for (int i = 0; i < used.length; i++) {
                if (used[i] && nextHops[i] == nextHop && (oldest < 0 || order[i] < order[oldest])) {
                    oldest = i;
                }
            }
            if (oldest < 0) {
                return sent;
            }
            final long at = (long) oldest * slotBytes;
            Wire.mac(slots, at + Ethernet.DESTINATION, mac);
            used[oldest] = false;
            count--;
            sender.send(slots, at, lengths[oldest], headers[oldest]);
            sent++;
        }
    }

    /**
     * Drops frames held longer than {@code maxWaitNs}.
     *
     * @return frames dropped
     */
    int expire(final long nowNs, final long maxWaitNs) {
        int dropped = 0;
        for (int i = 0; i < used.length; i++) {
            if (used[i] && nowNs - heldNs[i] >= maxWaitNs) {
                used[i] = false;
                count--;
                dropped++;
            }
        }
        return dropped;
    }

    /** @return frames waiting */
    int size() {
        return count;
    }

    @Override
    public void close() {
        arena.close();
    }
}

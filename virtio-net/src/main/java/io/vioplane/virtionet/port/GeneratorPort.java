package io.vioplane.virtionet.port;

import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A traffic source: offers the guest an endless stream of copies of one frame (Ethernet broadcast, a local
 * experimental ethertype, {@code frameBytes} long), as fast as the guest posts receive buffers; frames the guest
 * sends are counted and dropped. The back-end-to-front-end half of a benchmark, like testpmd's txonly.
 */
public final class GeneratorPort implements NetPort {
    private final MemorySegment frame;
    private final int frameBytes;
    private final NetHeaderValues header = new NetHeaderValues();
    private long transmittedByGuest;

    /** @param frameBytes the generated frame's length (at least 60) */
    public GeneratorPort(final int frameBytes) {
        if (frameBytes < 60 || frameBytes > 9018) {
            throw new IllegalArgumentException("generated frames must be 60..9018 bytes: " + frameBytes);
        }
        this.frameBytes = frameBytes;
        this.frame = Arena.ofAuto().allocate(frameBytes, 64);
        for (int i = 0; i < 6; i++) {
            frame.set(ValueLayout.JAVA_BYTE, i, (byte) 0xFF);
        }
        final byte[] source = {0x02, 0x00, 0x00, 0x00, 0x00, 0x47};
        MemorySegment.copy(source, 0, frame, ValueLayout.JAVA_BYTE, 6, 6);
        frame.set(ValueLayout.JAVA_BYTE, 12, (byte) 0x88);
        frame.set(ValueLayout.JAVA_BYTE, 13, (byte) 0xB5);
    }

    @Override
    public boolean transmit(final int queuePair, final TxFrame frameFromGuest) {
        transmittedByGuest++;
        return true;
    }

    @Override
    public int receive(final int queuePair, final RxDestination destination, final int max) {
        int delivered = 0;
        while (delivered < max && destination.deliver(frame, 0, frameBytes, header)) {
            delivered++;
        }
        return delivered;
    }

    @Override
    public boolean hasPending(final int queuePair) {
        return true;
    }

    /** @return frames the guest sent (dropped) */
    public long transmittedByGuest() {
        return transmittedByGuest;
    }

    @Override
    public String name() {
        return "generate";
    }
}

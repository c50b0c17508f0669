package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.port.RxDestination;
import io.vioplane.virtionet.testkit.NetPortConformance;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A guest's bridge port keeps the NetPort contract; behind it a second guest port on the same bridge, played as an
 * echo (it sends back what reaches it, MACs swapped), answers.
 */
class BridgePortConformanceTest extends NetPortConformance {
    private static final byte[] GUEST_MAC = {0x02, 0, 0, 0, 0, 0x01};
    private static final byte[] PEER_MAC = {0x02, 0, 0, 0, 0, 0x02};

    private final Arena arena = Arena.ofShared();
    private final MemorySegment echoBuffer = arena.allocate(65_600, 64);
    private final BufferTxFrame echoFrame = new BufferTxFrame();
    private GuestBridgePort guest;
    private GuestBridgePort peer;

    @Override
    protected NetPort openPort() {
        final Bridge bridge = Bridge.create("conformance", Counters.inMemory(256));
        guest = new GuestBridgePort("vm0", bridge, 1500, GUEST_MAC, 64);
        peer = new GuestBridgePort("vm1", bridge, 1500, PEER_MAC, 64);
        return guest;
    }

    @Override
    protected void closePort() {
        guest.close();
        peer.close();
        arena.close();
    }

    @Override
    protected void advance() {
        peer.receive(0, new RxDestination() {
            @Override
            public boolean deliver(final MemorySegment source, final long offset, final int lengthBytes,
                                   final NetHeaderValues header) {
                MemorySegment.copy(source, offset, echoBuffer, 0, lengthBytes);
                MemorySegment.copy(source, offset + 6, echoBuffer, 0, 6);
                MemorySegment.copy(source, offset, echoBuffer, 6, 6);
                echoFrame.wrap(echoBuffer, 0, lengthBytes).headerHolder().clear();
                peer.transmit(0, echoFrame);
                return true;
            }

            @Override
            public boolean hasRoom() {
                return true;
            }
        }, 64);
        peer.flush(0);
    }

    @Override
    protected byte[] askingFrame() {
        final byte[] frame = new byte[60];
        System.arraycopy(PEER_MAC, 0, frame, 0, 6);
        System.arraycopy(GUEST_MAC, 0, frame, 6, 6);
        frame[12] = 0x08;
        return frame;
    }
}

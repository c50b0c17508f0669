package io.vioplane.tap.capture;

import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.port.RxDestination;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.MemorySegment;

/**
 * Records the frames of one {@link NetPort} that is not on a bridge (echo, discard): what the guest sent into it
 * and what it delivered to the guest. Adds one copy per frame into the capture ring; nothing else changes.
 */
public final class CapturingPort implements NetPort {
    private final NetPort port;
    private final PacketCapture capture;
    private final int portId;
    private final RecordingDestination recording = new RecordingDestination();

    /** @param portId the id this port's frames carry in the journal */
    public CapturingPort(final NetPort port, final PacketCapture capture, final int portId) {
        this.port = port;
        this.capture = capture;
        this.portId = portId;
        capture.registerPort(portId, port.name());
    }

    @Override
    public boolean transmit(final int queuePair, final TxFrame frame) {
        capture.record(portId, CaptureRecord.DIRECTION_IN, frame);
        return port.transmit(queuePair, frame);
    }

    @Override
    public void flush(final int queuePair) {
        port.flush(queuePair);
    }

    @Override
    public int receive(final int queuePair, final RxDestination destination, final int max) {
        recording.target = destination;
        return port.receive(queuePair, recording, max);
    }

    @Override
    public boolean hasPending(final int queuePair) {
        return port.hasPending(queuePair);
    }

    @Override
    public void receivePairs(final int pairs) {
        port.receivePairs(pairs);
    }

    @Override
    public String name() {
        return port.name();
    }

    private final class RecordingDestination implements RxDestination {
        private RxDestination target;

        @Override
        public boolean deliver(final MemorySegment source, final long offset, final int lengthBytes,
                               final NetHeaderValues header) {
            final boolean consumed = target.deliver(source, offset, lengthBytes, header);
            if (consumed) {
                capture.record(portId, CaptureRecord.DIRECTION_OUT, source, offset, lengthBytes);
            }
            return consumed;
        }

        @Override
        public boolean hasRoom() {
            return target.hasRoom();
        }
    }
}

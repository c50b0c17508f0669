package io.vioplane.virtionet.engine;

import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.port.TxFrame;
import io.vioplane.vring.DescriptorChain;

import java.lang.foreign.MemorySegment;

/**
 * A {@link TxFrame} over a popped transmit chain: the readable bytes after the 12-byte header. Reused from
 * frame to frame; {@link #bind} computes where the frame starts inside the chain's segments once.
 */
final class ChainTxFrame implements TxFrame {
    private final NetHeaderValues header = new NetHeaderValues();
    private DescriptorChain chain;
    private int length;
    private int firstSegment;
    private long firstSkip;

    NetHeaderValues headerHolder() {
        return header;
    }

    void bind(final DescriptorChain newChain) {
        chain = newChain;
        length = (int) (newChain.readableBytes() - VirtioNetHeader.BYTES);
        long skip = VirtioNetHeader.BYTES;
        int segment = 0;
        while (segment < newChain.readableCount() && skip >= newChain.segmentLength(segment)) {
            skip -= newChain.segmentLength(segment);
            segment++;
        }
        firstSegment = segment;
        firstSkip = skip;
    }

    @Override
    public NetHeaderValues header() {
        return header;
    }

    /** A transmit chain goes back to the guest when the engine publishes used buffers, after the port's flush. */
    @Override
    public boolean stableUntilFlush() {
        return true;
    }

    @Override
    public int lengthBytes() {
        return length;
    }

    @Override
    public long copyTo(final long frameOffset, final MemorySegment destination, final long destinationOffset,
                       final long lengthBytes) {
        final long available = Math.max(0, length - frameOffset);
        return chain.copyFromReadable(VirtioNetHeader.BYTES + frameOffset, destination, destinationOffset,
                Math.min(lengthBytes, available));
    }

    @Override
    public int segmentCount() {
        return length == 0 ? 0 : chain.readableCount() - firstSegment;
    }

    @Override
    public MemorySegment segmentBase(final int index) {
        return chain.segmentBase(firstSegment + index);
    }

    @Override
    public long segmentOffset(final int index) {
        return chain.segmentOffset(firstSegment + index) + (index == 0 ? firstSkip : 0);
    }

    @Override
    public long segmentLength(final int index) {
        return chain.segmentLength(firstSegment + index) - (index == 0 ? firstSkip : 0);
    }
}

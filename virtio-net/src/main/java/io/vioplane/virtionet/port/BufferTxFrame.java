package io.vioplane.virtionet.port;

import io.vioplane.virtionet.NetHeaderValues;

import java.lang.foreign.MemorySegment;

/**
 * A {@link TxFrame} over a frame in the device's own memory rather than a guest's: frames the device makes
 * itself (an announcement after migration) or holds (a bridge's flooding). One segment; reusable.
 */
public final class BufferTxFrame implements TxFrame {
    private final NetHeaderValues header = new NetHeaderValues();
    private MemorySegment buffer;
    private long offset;
    private int length;

    /**
     * Points the frame at {@code lengthBytes} of {@code source} from {@code sourceOffset}.
     *
     * @return this
     */
    public BufferTxFrame wrap(final MemorySegment source, final long sourceOffset, final int lengthBytes) {
        this.buffer = source;
        this.offset = sourceOffset;
        this.length = lengthBytes;
        header.clear();
        return this;
    }

    /** @return the header, for the caller to set offload fields */
    public NetHeaderValues headerHolder() {
        return header;
    }

    @Override
    public NetHeaderValues header() {
        return header;
    }

    @Override
    public int lengthBytes() {
        return length;
    }

    @Override
    public long copyTo(final long frameOffset, final MemorySegment destination, final long destinationOffset,
                       final long lengthBytes) {
        final long count = Math.max(0, Math.min(lengthBytes, length - frameOffset));
        MemorySegment.copy(buffer, offset + frameOffset, destination, destinationOffset, count);
        return count;
    }

    @Override
    public int segmentCount() {
        return length == 0 ? 0 : 1;
    }

    @Override
    public MemorySegment segmentBase(final int index) {
        return buffer;
    }

    @Override
    public long segmentOffset(final int index) {
        return offset;
    }

    @Override
    public long segmentLength(final int index) {
        return length;
    }
}

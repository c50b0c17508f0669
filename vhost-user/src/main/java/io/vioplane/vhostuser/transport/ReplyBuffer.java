package io.vioplane.vhostuser.transport;

import io.vioplane.vhostuser.protocol.ReplyWriter;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.protocol.VhostUserMessage;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * The connection's one reply: header and body in one reused native buffer, plus at most one descriptor to
 * attach. The handler writes the body through {@link ReplyWriter}; the connection writes acknowledgements itself.
 */
final class ReplyBuffer implements ReplyWriter {
    private final MemorySegment buffer;
    private final MemorySegment body;
    private final int[] fds = new int[1];
    private int request;
    private int bodyBytes = -1;
    private int fdCount;

    ReplyBuffer(final MemorySegment buffer) {
        this.buffer = buffer;
        this.body = buffer.asSlice(VhostUserHeader.HEADER_BYTES);
    }

    /** Starts the reply to {@code requestId}: nothing written yet. */
    void begin(final int requestId) {
        request = requestId;
        bodyBytes = -1;
        fdCount = 0;
    }

    /** @return true if a body (possibly empty) was written since {@link #begin} */
    boolean written() {
        return bodyBytes >= 0;
    }

    /** Discards whatever the handler wrote. */
    void discard() {
        bodyBytes = -1;
        fdCount = 0;
    }

    /** Writes the header; @return the total bytes to send */
    int seal() {
        VhostUserHeader.write(buffer, request, VhostUserHeader.VERSION | VhostUserHeader.FLAG_REPLY, bodyBytes);
        return VhostUserHeader.HEADER_BYTES + bodyBytes;
    }

    MemorySegment segment() {
        return buffer;
    }

    int[] fds() {
        return fds;
    }

    int fdCount() {
        return fdCount;
    }

    private void claim(final int bytes) {
        if (written()) {
            throw new IllegalStateException("the handler wrote a second reply body");
        }
        if (bytes < 0 || bytes > VhostUserHeader.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("reply body of " + bytes + " bytes; at most "
                    + VhostUserHeader.MAX_PAYLOAD_BYTES);
        }
        bodyBytes = bytes;
    }

    @Override
    public void u64(final long value) {
        claim(VhostUserMessage.U64_BYTES);
        body.set(JAVA_LONG_UNALIGNED, 0, value);
    }

    @Override
    public void vringState(final int index, final int num) {
        claim(VhostUserMessage.VRING_STATE_BYTES);
        body.set(JAVA_INT_UNALIGNED, 0, index);
        body.set(JAVA_INT_UNALIGNED, 4, num);
    }

    @Override
    public void empty() {
        claim(0);
    }

    @Override
    public void bytes(final MemorySegment data) {
        final long length = data.byteSize();
        claim(length > Integer.MAX_VALUE ? -1 : (int) length);
        MemorySegment.copy(data, 0, body, 0, length);
    }

    @Override
    public void bytes(final MemorySegment data, final int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("reply descriptor " + fd);
        }
        bytes(data);
        fds[0] = fd;
        fdCount = 1;
    }

    @Override
    public void config(final int offset, final int size, final int flags, final MemorySegment data) {
        if (size < 0 || size > VhostUserHeader.MAX_CONFIG_BYTES || data.byteSize() < size) {
            throw new IllegalArgumentException("config reply of " + size + " bytes from " + data.byteSize()
                    + "; at most " + VhostUserHeader.MAX_CONFIG_BYTES);
        }
        claim(VhostUserHeader.CONFIG_HEADER_BYTES + size);
        body.set(JAVA_INT_UNALIGNED, 0, offset);
        body.set(JAVA_INT_UNALIGNED, 4, size);
        body.set(JAVA_INT_UNALIGNED, 8, flags);
        MemorySegment.copy(data, 0, body, VhostUserHeader.CONFIG_HEADER_BYTES, size);
    }

    @Override
    public void inflight(final long mmapSizeBytes, final long mmapOffsetBytes, final int queueCount,
                         final int queueSize, final int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("inflight descriptor " + fd);
        }
        claim(VhostUserMessage.INFLIGHT_BYTES);
        body.asSlice(0, VhostUserMessage.INFLIGHT_BYTES).fill((byte) 0);
        body.set(JAVA_LONG_UNALIGNED, 0, mmapSizeBytes);
        body.set(JAVA_LONG_UNALIGNED, 8, mmapOffsetBytes);
        body.set(JAVA_SHORT_UNALIGNED, 16, (short) queueCount);
        body.set(JAVA_SHORT_UNALIGNED, 18, (short) queueSize);
        fds[0] = fd;
        fdCount = 1;
    }

    /** Writes the connection's own u64 reply (an acknowledgement or a failure status). */
    void status(final long value) {
        discard();
        u64(value);
    }
}

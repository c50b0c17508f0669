package io.vioplane.virtioblk.engine;

import io.vioplane.platform.sys.IoVecArray;
import io.vioplane.vring.DescriptorChain;

/**
 * Points iovecs at a run of a chain's buffers in place (no copy): part of the readable run (OUT data after the
 * header) or of the writable run (IN data before the status byte). The run was checked against the chain by
 * the validator; each iovec is checked again against its host segment by {@link IoVecArray}.
 */
final class ChainIoVecs {
    private ChainIoVecs() {
    }

    /**
     * @param writable   the run is the writable one (else the readable one)
     * @param runOffset  where in the run the data starts
     * @param lengthBytes the data's length
     * @return iovecs filled
     */
    static int fill(final DescriptorChain chain, final boolean writable, final long runOffset, final long lengthBytes,
                    final IoVecArray iov) {
        final int first = writable ? chain.readableCount() : 0;
        final int end = writable ? chain.segmentCount() : chain.readableCount();
        long skip = runOffset;
        long left = lengthBytes;
        int count = 0;
        for (int i = first; i < end && left > 0; i++) {
            final long segmentLength = chain.segmentLength(i);
            if (skip >= segmentLength) {
                skip -= segmentLength;
                continue;
            }
            final long piece = Math.min(segmentLength - skip, left);
            iov.set(count++, chain.segmentBase(i), chain.segmentOffset(i) + skip, piece);
            left -= piece;
            skip = 0;
        }
        return count;
    }
}

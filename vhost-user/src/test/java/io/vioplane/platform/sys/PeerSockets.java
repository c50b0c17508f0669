package io.vioplane.platform.sys;

import java.lang.foreign.MemorySegment;

/**
 * Test access to {@link UnixSockets}' package-private send with a higher descriptor limit, so a test can play a
 * hostile peer that attaches more descriptors to a message than vhost-user allows (the receiver sees MSG_CTRUNC).
 */
public final class PeerSockets {
    /** The most descriptors {@link #sendWithManyFds} can attach. */
    public static final int MAX_FDS = UnixSockets.MAX_SEND_FDS;

    private PeerSockets() {
    }

    /** As {@link UnixSockets#send}, allowing up to {@link #MAX_FDS} descriptors. */
    public static long sendWithManyFds(final int fd, final MemorySegment data, final long lengthBytes, final int[] fds,
                                       final int fdCount) {
        return UnixSockets.send(fd, data, lengthBytes, fds, fdCount, 0, MAX_FDS);
    }
}

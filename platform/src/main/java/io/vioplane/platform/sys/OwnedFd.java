package io.vioplane.platform.sys;

/**
 * A file descriptor and the duty to close it (close(2)): closed exactly once by {@link #close()}, unless the duty
 * was handed on with {@link #release()}. Use it with try-with-resources where a descriptor must not outlive a
 * failure: a socket that did not connect, a descriptor a peer sent that the handler did not keep.
 *
 * <pre>{@code
 * try (OwnedFd socket = OwnedFd.adopt(UnixSockets.socket(true))) {
 *     UnixSockets.connect(socket.fd(), path);   // throws: the socket is closed
 *     serve(socket.release());                  // now the connection owns it
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one owner at a time.
 */
public final class OwnedFd implements AutoCloseable {
    private int fd;

    private OwnedFd(final int fd) {
        this.fd = fd;
    }

    /** @return an owner of {@code fd}, which must be open (non-negative) and owned by nobody else */
    public static OwnedFd adopt(final int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new OwnedFd(fd);
    }

    /** @return the descriptor, still owned here */
    public int fd() {
        if (fd < 0) {
            throw new IllegalStateException("the descriptor was closed or released");
        }
        return fd;
    }

    /** @return true until closed or released */
    public boolean isOpen() {
        return fd >= 0;
    }

    /** @return the descriptor, whose closing is now the caller's duty */
    public int release() {
        final int released = fd();
        fd = -1;
        return released;
    }

    /** Closes the descriptor if still owned; idempotent, never throws. */
    @Override
    public void close() {
        if (fd >= 0) {
            FileIo.closeQuietly(fd);
            fd = -1;
        }
    }

    @Override
    public String toString() {
        return fd >= 0 ? "fd " + fd : "fd (closed)";
    }
}

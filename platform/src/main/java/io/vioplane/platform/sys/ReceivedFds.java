package io.vioplane.platform.sys;

import java.util.Arrays;

/**
 * The descriptors that arrived with one message over an AF_UNIX socket (SCM_RIGHTS, unix(7)), held until
 * their consumer {@link #take takes} them; whatever is not taken is closed by {@link #closeAll()}.
 *
 * <p>Reused from message to message: no allocation per message. One owner thread.
 */
public final class ReceivedFds {
    /** The most descriptors one message may carry (vhost-user's limit). */
    public static final int MAX_FDS = 8;

    private final int[] fds = new int[MAX_FDS];
    private int count;

    /** Creates an empty holder. */
    public ReceivedFds() {
        Arrays.fill(fds, -1);
    }

    /** @return how many descriptors arrived */
    public int count() {
        return count;
    }

    /** @return descriptor {@code index} without taking ownership of it, or -1 if it was taken */
    public int peek(final int index) {
        checkIndex(index);
        return fds[index];
    }

    /** @return descriptor {@code index}; the caller now owns it and must close it */
    public int take(final int index) {
        checkIndex(index);
        final int fd = fds[index];
        if (fd < 0) {
            throw new IllegalStateException("descriptor " + index + " was already taken");
        }
        fds[index] = -1;
        return fd;
    }

    /** Closes every descriptor not taken and empties the holder. */
    public void closeAll() {
        for (int i = 0; i < count; i++) {
            FileIo.closeQuietly(fds[i]);
            fds[i] = -1;
        }
        count = 0;
    }

    /**
     * Records a descriptor that arrived.
     *
     * @return false (and closes {@code fd}) if the holder is full
     */
    boolean append(final int fd) {
        if (count == MAX_FDS) {
            FileIo.closeQuietly(fd);
            return false;
        }
        fds[count++] = fd;
        return true;
    }

    private void checkIndex(final int index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("descriptor " + index + " of " + count);
        }
    }

    @Override
    public String toString() {
        return "ReceivedFds" + Arrays.toString(Arrays.copyOf(fds, count));
    }
}

package io.vioplane.platform.sys;

import java.lang.foreign.Arena;

/**
 * memfd_create(2) and ftruncate(2): anonymous files whose memory another process (QEMU, DPDK, KVM) can map
 * once it receives the descriptor.
 */
public final class MemFd {
    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_ALLOW_SEALING = 0x2;

    private MemFd() {
    }

    /**
     * Creates a memfd of {@code sizeBytes}, close-on-exec.
     *
     * @param name shown in /proc/PID/fd and /proc/PID/maps
     * @return the descriptor; the caller owns it
     */
    public static int create(final String name, final long sizeBytes) {
        return create(name, sizeBytes, MFD_CLOEXEC);
    }

    private static int create(final String name, final long sizeBytes, final int flags) {
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("memfd size must not be negative: " + sizeBytes);
        }
        final Libc.Scratch scratch = Libc.scratch();
        final int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = Libc.memfdCreate(scratch.capture, arena.allocateFrom(name), flags);
        }
        if (fd < 0) {
            throw new SysException("memfd_create(" + name + ")", scratch.errno());
        }
        try {
            truncate(fd, sizeBytes);
        } catch (SysException e) {
            FileIo.closeQuietly(fd);
            throw e;
        }
        return fd;
    }

    private static final int F_ADD_SEALS = 1033;
    private static final int F_GET_SEALS = 1034;
    private static final int F_SEAL_SHRINK = 0x0002;

    /**
     * Seals the file behind {@code fd} against shrinking (fcntl(2) F_ADD_SEALS, F_SEAL_SHRINK), so that the
     * process that gave it to us cannot truncate memory we have mapped (an access past the new end would
     * fault). Only files created with MFD_ALLOW_SEALING accept seals.
     *
     * @return true if the file is now sealed against shrinking; false if it cannot be sealed
     */
    public static boolean sealAgainstShrinking(final int fd) {
        final Libc.Scratch scratch = Libc.scratch();
        final int seals = Libc.fcntl(scratch.capture, fd, F_GET_SEALS, 0);
        if (seals >= 0 && (seals & F_SEAL_SHRINK) != 0) {
            return true;
        }
        return Libc.fcntl(scratch.capture, fd, F_ADD_SEALS, F_SEAL_SHRINK) >= 0;
    }

    /** Creates a memfd that accepts seals (MFD_ALLOW_SEALING), for tests and for memory we share. */
    public static int createSealable(final String name, final long sizeBytes) {
        return create(name, sizeBytes, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    }

    /** Sets the size of the file behind {@code fd}. */
    public static void truncate(final int fd, final long sizeBytes) {
        final Libc.Scratch scratch = Libc.scratch();
        if (Libc.ftruncate(scratch.capture, fd, sizeBytes) < 0) {
            throw new SysException("ftruncate(fd=" + fd + ", " + sizeBytes + ")", scratch.errno());
        }
    }
}

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
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("memfd size must not be negative: " + sizeBytes);
        }
        final Libc.Scratch scratch = Libc.scratch();
        final int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = Libc.memfdCreate(scratch.capture, arena.allocateFrom(name), MFD_CLOEXEC);
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

    /** Sets the size of the file behind {@code fd}. */
    public static void truncate(final int fd, final long sizeBytes) {
        final Libc.Scratch scratch = Libc.scratch();
        if (Libc.ftruncate(scratch.capture, fd, sizeBytes) < 0) {
            throw new SysException("ftruncate(fd=" + fd + ", " + sizeBytes + ")", scratch.errno());
        }
    }
}

package io.vioplane.platform.sys;

/**
 * Process facts from the C library: getpid(2) and sysconf(3).
 */
public final class Linux {
    private static final int SC_PAGESIZE = 30;

    private Linux() {
    }

    /** @return this process's id, through a downcall (a cheap syscall; the benchmark of downcall cost) */
    public static int getpid() {
        return Libc.getpid(Libc.scratch().capture);
    }

    /** @return the system page size in bytes */
    public static long pageSize() {
        final Libc.Scratch scratch = Libc.scratch();
        final long size = Libc.sysconf(scratch.capture, SC_PAGESIZE);
        if (size <= 0) {
            throw new SysException("sysconf(_SC_PAGESIZE)", scratch.errno());
        }
        return size;
    }
}

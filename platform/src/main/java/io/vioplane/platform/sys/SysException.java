package io.vioplane.platform.sys;

import java.io.Serial;

/**
 * A Linux system call failed: carries the call's name and errno.
 *
 * <p>Unchecked, like {@link java.io.UncheckedIOException}: callers on a data path decide per errno (for
 * example {@link Errno#EAGAIN}) and everything else propagates to the owner of the resource.
 */
public final class SysException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call  what was called, with the arguments that identify it (e.g. {@code "ioctl(fd=7, 0x400454ca)"})
     * @param errno the errno the kernel reported
     */
    public SysException(final String call, final int errno) {
        super(call + ": " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    /** @return the call that failed, with identifying arguments */
    public String call() {
        return call;
    }

    /** @return the kernel's errno for the failure */
    public int errno() {
        return errno;
    }
}

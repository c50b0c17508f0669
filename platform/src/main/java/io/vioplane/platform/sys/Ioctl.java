package io.vioplane.platform.sys;

import java.lang.foreign.MemorySegment;

/**
 * ioctl(2), the variadic call through which TAP (TUNSETIFF, TUNSETOFFLOAD) and KVM are driven.
 *
 * <p>{@code invoke} throws on failure; {@code tryInvoke} returns {@code -errno} so that callers for which
 * some failures are normal events (KVM_RUN and EINTR) decide without an exception.
 */
public final class Ioctl {
    private Ioctl() {
    }

    /**
     * @param name the request's name, for the error message
     * @return the call's non-negative result
     */
    public static int invoke(final int fd, final long request, final MemorySegment argument, final String name) {
        final Libc.Scratch scratch = Libc.scratch();
        final int result = Libc.ioctl(scratch.capture, fd, request, argument);
        if (result < 0) {
            throw new SysException("ioctl(fd=" + fd + ", " + name + ")", scratch.errno());
        }
        return result;
    }

    /**
     * @param name the request's name, for the error message
     * @return the call's non-negative result
     */
    public static int invoke(final int fd, final long request, final long argument, final String name) {
        final Libc.Scratch scratch = Libc.scratch();
        final int result = Libc.ioctl(scratch.capture, fd, request, argument);
        if (result < 0) {
            throw new SysException("ioctl(fd=" + fd + ", " + name + ")", scratch.errno());
        }
        return result;
    }

    /** @return the call's result, or {@code -errno} when it failed */
    public static int tryInvoke(final int fd, final long request, final MemorySegment argument) {
        final Libc.Scratch scratch = Libc.scratch();
        final int result = Libc.ioctl(scratch.capture, fd, request, argument);
        return result < 0 ? -scratch.errno() : result;
    }

    /** @return the call's result, or {@code -errno} when it failed */
    public static int tryInvoke(final int fd, final long request, final long argument) {
        final Libc.Scratch scratch = Libc.scratch();
        final int result = Libc.ioctl(scratch.capture, fd, request, argument);
        return result < 0 ? -scratch.errno() : result;
    }
}

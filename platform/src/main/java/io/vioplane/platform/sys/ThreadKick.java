package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Interrupts a thread that is blocked in a system call (KVM_RUN) by sending it a real-time signal whose handler
 * does nothing, so the call returns EINTR (Linux {@code Documentation/virt/kvm/api.rst}, "immediate_exit").
 *
 * <p>The handler is the C library's {@code getpid}: async-signal-safe, ignores its argument, touches no Java
 * state. The signal is one the JVM does not use. gettid(2) and tgkill(2) name the thread.
 */
public final class ThreadKick {
    /** SIGRTMIN + 6 with glibc's reserved two: not used by HotSpot. */
    public static final int SIGNAL = 40;

    private static final long SYS_GETTID = 186;
    private static final long SYS_TGKILL = 234;
    private static final int SA_RESTART = 0x10000000;
    /** glibc's struct sigaction on x86-64: handler, 128-byte mask, flags (+4 pad), restorer. */
    private static final long SIGACTION_BYTES = 152;
    private static final long FLAGS_OFFSET = 136;
    private static final MethodHandle SIGACTION = Libc.LINKER.downcallHandle(
            Libc.LOOKUP.find("sigaction").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static volatile boolean installed;

    private ThreadKick() {
    }

    /** Installs the do-nothing handler for {@link #SIGNAL}, once per process. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        final MemorySegment handler = Libc.LOOKUP.find("getpid").orElseThrow();
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment action = arena.allocate(SIGACTION_BYTES, 8);
            action.set(ValueLayout.ADDRESS, 0, handler);
            action.set(ValueLayout.JAVA_INT, FLAGS_OFFSET, SA_RESTART);
            final int result = (int) SIGACTION.invokeExact(SIGNAL, action, MemorySegment.NULL);
            if (result != 0) {
                throw new IllegalStateException("sigaction(" + SIGNAL + ") failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        installed = true;
    }

    /** @return the calling thread's kernel thread id */
    public static int currentThreadId() {
        return (int) Libc.syscall(Libc.scratch().capture, SYS_GETTID, 0, 0, 0, 0, 0, 0);
    }

    /**
     * Sends {@link #SIGNAL} to thread {@code threadId} of this process. {@link #install()} must have run.
     *
     * @return false if the thread no longer exists
     */
    public static boolean kick(final int threadId) {
        final Libc.Scratch scratch = Libc.scratch();
        final long result = Libc.syscall(scratch.capture, SYS_TGKILL, Linux.getpid(), threadId, SIGNAL, 0, 0, 0);
        if (result < 0) {
            if (scratch.errno() == Errno.ESRCH) {
                return false;
            }
            throw new SysException("tgkill(" + threadId + ", " + SIGNAL + ")", scratch.errno());
        }
        return true;
    }
}

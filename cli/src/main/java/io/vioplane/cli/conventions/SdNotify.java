package io.vioplane.cli.conventions;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The service manager's readiness protocol (sd_notify(3), systemd's "notify" socket): when {@code NOTIFY_SOCKET}
 * names an AF_UNIX datagram socket (a path, or an abstract name written {@code @name}), each state change is one
 * datagram of newline-separated {@code KEY=VALUE} lines ({@code READY=1}, {@code STOPPING=1}, {@code STATUS=...},
 * {@code MAINPID=...}). Without {@code NOTIFY_SOCKET} every call does nothing. A message that cannot be sent is
 * reported to the caller, never fatal: the daemon serves either way.
 */
public final class SdNotify {
    /** The environment variable the service manager sets (sd_notify(3)). */
    public static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH_BYTES = 108;
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SENDTO = downcall("sendto", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private final String socketName;

    private SdNotify(final String socketName) {
        this.socketName = socketName;
    }

    /** @return a notifier for this process's {@code NOTIFY_SOCKET}, which does nothing when it is unset */
    public static SdNotify fromEnvironment() {
        final String name = System.getenv(NOTIFY_SOCKET);
        return new SdNotify(name == null || name.isEmpty() ? null : name);
    }

    /** @return true if a service manager listens ({@code NOTIFY_SOCKET} is set) */
    public boolean enabled() {
        return socketName != null;
    }

    /**
     * Sends {@code state} (newline-separated {@code KEY=VALUE} lines) as one datagram.
     *
     * @return null if sent (or nothing to send to), else why it was not
     */
    public String send(final String state) {
        if (socketName == null) {
            return null;
        }
        final byte[] name = socketName.getBytes(StandardCharsets.UTF_8);
        final boolean abstractName = name[0] == '@';
        if (name.length >= SUN_PATH_BYTES || (!abstractName && name[0] != '/')) {
            return NOTIFY_SOCKET + "=" + socketName + " is neither an absolute path nor an @abstract name that fits"
                    + " sun_path";
        }
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment errno = arena.allocate(CAPTURE);
            final MemorySegment address = arena.allocate(2 + SUN_PATH_BYTES);
            address.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, address, JAVA_BYTE, 2, name.length);
            if (abstractName) {
                address.set(JAVA_BYTE, 2, (byte) 0);
            }
            final int addressBytes = 2 + name.length + (abstractName ? 0 : 1);
            final byte[] text = state.getBytes(StandardCharsets.UTF_8);
            final MemorySegment message = arena.allocateFrom(JAVA_BYTE, text);
            final int fd = (int) SOCKET.invokeExact(errno, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                return "socket(AF_UNIX, SOCK_DGRAM): errno " + (int) ERRNO.get(errno, 0L);
            }
            try {
                final long sent = (long) SENDTO.invokeExact(errno, fd, message, (long) text.length, MSG_NOSIGNAL,
                        address, addressBytes);
                return sent == text.length ? null : "sendto(" + socketName + "): errno " + (int) ERRNO.get(errno, 0L);
            } finally {
                final int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (Throwable e) {
            throw new IllegalStateException("sd_notify downcall failed", e);
        }
    }

    private static MethodHandle downcall(final String name, final FunctionDescriptor descriptor,
                                         final Linker.Option... options) {
        final Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), descriptor, options);
    }
}

package io.vioplane.vmx.machine;

/**
 * Where a guest's console lines go (the guest program's own output, already made printable by the
 * {@link DebugDevice}); not a log: the VMM's own messages go to the process's {@code ErrorLog}.
 */
@FunctionalInterface
public interface GuestConsole {
    /** Discards the guest's output. */
    GuestConsole NONE = text -> { };

    /** Receives one complete console line, without its newline. */
    void line(String text);
}

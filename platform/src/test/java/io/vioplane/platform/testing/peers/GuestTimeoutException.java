package io.vioplane.platform.testing.peers;

/**
 * Thrown when a guest did not reach its shell, or a command in it did not finish, in the time allowed; the
 * message ends with the tail of the serial console.
 */
public final class GuestTimeoutException extends RuntimeException {
    /** Creates the exception with {@code message}, which should include the console's tail. */
    public GuestTimeoutException(final String message) {
        super(message);
    }
}

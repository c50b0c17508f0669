package io.vioplane.cli.conventions;

/**
 * An expected failure of a command, reported as one line {@code vioplane CMD: SUBJECT: reason} (no stack trace
 * unless {@code --verbose}) by {@link CommandConventions}. The subject is the flag or path at fault.
 *
 * <p>{@link #usage} is a mistake in the arguments (exit {@value ExitCodes#USAGE}); {@link #failure} is a command
 * that could not do its work with valid arguments (exit {@value ExitCodes#FAILURE}): a missing directory, a busy
 * socket, a benchmark that did not run.
 */
public final class UserError extends RuntimeException {
    private final String subject;
    private final int exitCode;

    private UserError(final String subject, final String reason, final int exitCode, final Throwable cause) {
        super(subject == null ? reason : subject + ": " + reason, cause);
        this.subject = subject;
        this.exitCode = exitCode;
    }

    /**
     * @param subject the flag (e.g. {@code --tap}) or path at fault, or null
     * @param reason  what is wrong, in a few words
     * @return a usage error (exit 2)
     */
    public static UserError usage(final String subject, final String reason) {
        return new UserError(subject, reason, ExitCodes.USAGE, null);
    }

    /**
     * @param subject the flag or path at fault, or null
     * @param reason  what went wrong, in a few words
     * @return a runtime failure (exit 1)
     */
    public static UserError failure(final String subject, final String reason) {
        return new UserError(subject, reason, ExitCodes.FAILURE, null);
    }

    /** @return a runtime failure (exit 1) whose stack trace {@code --verbose} shows with {@code cause}'s */
    public static UserError failure(final String subject, final String reason, final Throwable cause) {
        return new UserError(subject, reason, ExitCodes.FAILURE, cause);
    }

    /** @return the flag or path at fault, or null */
    public String subject() {
        return subject;
    }

    /** @return {@link ExitCodes#USAGE} or {@link ExitCodes#FAILURE} */
    public int exitCode() {
        return exitCode;
    }
}

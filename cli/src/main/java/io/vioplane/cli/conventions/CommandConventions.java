package io.vioplane.cli.conventions;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;

/**
 * What every {@code vioplane} command shares on its command line, applied once to the whole command tree so a new
 * subcommand gets it by being registered: expected failures ({@link UserError}) end as one line
 * {@code vioplane CMD: SUBJECT: reason} on standard error with exit 1 or 2; argument errors as one line with exit 2;
 * anything else is an internal error, printed with its stack trace, exit 1. {@code --verbose} (added to every command
 * that lacks it) also prints the stack trace of an expected failure. Each {@code --help} lists the exit codes.
 */
public final class CommandConventions {
    /** The option that asks for stack traces (and, where a command defines it, more output). */
    public static final String VERBOSE = "--verbose";

    private CommandConventions() {
    }

    /**
     * Applies the conventions to {@code root} and all its subcommands (call after they are registered).
     *
     * @return {@code root}
     */
    public static CommandLine apply(final CommandLine root) {
        root.setExecutionExceptionHandler(CommandConventions::executionFailed);
        root.setParameterExceptionHandler(CommandConventions::argumentsRejected);
        decorate(root);
        return root;
    }

    private static void decorate(final CommandLine command) {
        final CommandSpec spec = command.getCommandSpec();
        spec.usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCodes.described());
        if (spec.findOption(VERBOSE) == null && !(command.getCommand() instanceof CommandLine.HelpCommand)) {
            spec.addOption(OptionSpec.builder(VERBOSE).description("On failure, also print the stack trace.").build());
        }
        for (CommandLine sub : command.getSubcommands().values()) {
            decorate(sub);
        }
    }

    private static int executionFailed(final Exception exception, final CommandLine command,
                                       final ParseResult parsed) {
        final PrintWriter err = command.getErr();
        final String name = command.getCommandSpec().qualifiedName(" ");
        final UserError expected = expectedCause(exception);
        if (expected != null) {
            err.println(name + ": " + expected.getMessage());
            if (verbose(parsed)) {
                exception.printStackTrace(err);
            }
            err.flush();
            return expected.exitCode();
        }
        err.println(name + ": internal error (a bug; please report it with this trace): " + exception);
        exception.printStackTrace(err);
        err.flush();
        return ExitCodes.FAILURE;
    }

    private static int argumentsRejected(final CommandLine.ParameterException exception, final String[] args) {
        final CommandLine command = exception.getCommandLine();
        final String name = command.getCommandSpec().qualifiedName(" ");
        final PrintWriter err = command.getErr();
        err.println(name + ": " + exception.getMessage() + " (see " + name + " --help)");
        err.flush();
        return ExitCodes.USAGE;
    }

    /** @return the {@link UserError} that {@code exception} is or wraps, or null */
    static UserError expectedCause(final Throwable exception) {
        for (Throwable cause = exception; cause != null; cause = cause.getCause()) {
            if (cause instanceof UserError userError) {
                return userError;
            }
        }
        return null;
    }

    private static boolean verbose(final ParseResult parsed) {
        for (ParseResult level = parsed; level != null; level = level.subcommand()) {
            if (level.hasMatchedOption(VERBOSE)) {
                return true;
            }
        }
        return false;
    }
}

package io.vioplane.cli;

import io.vioplane.cli.conventions.CommandConventions;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code vioplane} command's entry point.
 */
@Command(name = "vioplane", mixinStandardHelpOptions = true, version = "vioplane 0.1.0",
        description = "I/O virtualization and networking data plane: virtqueues, vhost-user, TAP, benchmarks.",
        subcommands = {BenchCommand.class, StatCommand.class, VhostUserNetCommand.class, VhostUserBlkCommand.class,
                CaptureCommand.class, RunCommand.class, E1000RemoteCommand.class, SoakCommand.class,
                CommandLine.HelpCommand.class})
public final class Vioplane implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its status. */
    public static void main(final String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** @return the command line, for tests that run commands in-process */
    public static CommandLine commandLine() {
        return CommandConventions.apply(new CommandLine(new Vioplane()).setCaseInsensitiveEnumValuesAllowed(true));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}

package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.tap.capture.PcapExporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code vioplane capture export DIR --pcap FILE}: turns a capture journal (recorded with
 * {@code vhost-user-net --capture DIR}) into a file Wireshark and tshark read.
 */
@Command(name = "capture", mixinStandardHelpOptions = true, description = "Work with packet-capture journals.",
        subcommands = CaptureCommand.Export.class)
final class CaptureCommand implements Runnable {
    @picocli.CommandLine.Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The export subcommand. */
    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Export a capture journal as pcap (or pcapng, which keeps port names and directions).")
    static final class Export implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "The journal directory given to --capture.")
        private Path directory;

        @Option(names = "--pcap", paramLabel = "FILE", description = "Write classic pcap (nanosecond timestamps).")
        private Path pcap;

        @Option(names = "--pcapng", paramLabel = "FILE", description = "Write pcapng with one interface per port.")
        private Path pcapng;

        @Option(names = "--port", paramLabel = "ID", description = "Only frames of this port id.")
        private Integer port;

        @Override
        public Integer call() {
            if ((pcap == null) == (pcapng == null)) {
                throw UserError.usage("--pcap", "give exactly one of --pcap FILE or --pcapng FILE");
            }
            final Path file = pcap != null ? pcap : pcapng;
            if (!Files.isDirectory(directory)) {
                throw UserError.failure(directory.toString(), "no such directory");
            }
            if (!PcapExporter.hasJournal(directory)) {
                throw UserError.failure(directory.toString(), "no capture journal here (no *.cq4 file);"
                        + " record one with vhost-user-net --capture DIR");
            }
            ArgumentChecks.checkParentDirectory(pcap != null ? "--pcap" : "--pcapng", file);
            try {
                final long frames = PcapExporter.export(directory, file,
                        pcap != null ? PcapExporter.Format.PCAP : PcapExporter.Format.PCAPNG, port);
                System.out.println("exported " + frames + " frame(s) to " + file);
                return ExitCodes.OK;
            } catch (UncheckedIOException e) {
                throw UserError.failure(file.toString(), "cannot write: " + e.getCause().getMessage(), e);
            }
        }
    }
}

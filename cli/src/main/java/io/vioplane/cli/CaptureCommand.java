package io.vioplane.cli;

import io.vioplane.tap.capture.PcapExporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
                System.err.println("vioplane capture export: give exactly one of --pcap FILE or --pcapng FILE");
                return 2;
            }
            try {
                final Path file = pcap != null ? pcap : pcapng;
                final long frames = PcapExporter.export(directory, file,
                        pcap != null ? PcapExporter.Format.PCAP : PcapExporter.Format.PCAPNG, port);
                System.out.println("exported " + frames + " frame(s) to " + file);
                return 0;
            } catch (IllegalArgumentException e) {
                System.err.println("vioplane capture export: " + e.getMessage());
                return 2;
            }
        }
    }
}

package io.vioplane.cli;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.tap.capture.PacketCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Everyday mistakes, each run as a user would (a separate {@code vioplane} process): the command ends with exit 1
 * (run-time failure) or 2 (usage) and one line on standard error, {@code vioplane CMD: FLAG-or-PATH: reason}, with
 * no stack trace.
 */
class CommandErrorsTest {
    private static void assertOneLine(final VioplaneProcess.Result result, final int exitCode, final String line) {
        assertEquals(List.of(line), result.errorLines(), "one line on standard error");
        assertEquals(exitCode, result.exitCode(), result.stderr());
    }

    private static void assertOneLineStartingWith(final VioplaneProcess.Result result, final int exitCode,
                                                  final String start) {
        assertEquals(1, result.errorLines().size(), result.stderr());
        assertTrue(result.errorLines().getFirst().startsWith(start), result.stderr());
        assertEquals(exitCode, result.exitCode(), result.stderr());
    }

    @Test
    void soakDurationMustBePositiveAndGivenOnce() throws Exception {
        assertOneLine(VioplaneProcess.run("soak", "--minutes", "0"), 2,
                "vioplane soak: --minutes: must be at least 1, not 0");
        assertOneLine(VioplaneProcess.run("soak", "--minutes", "1", "--seconds", "30"), 2,
                "vioplane soak: --seconds: --minutes and --seconds exclude each other");
    }

    @Test
    void socketInAMissingDirectoryNamesThePath(@TempDir final Path directory) throws Exception {
        final Path socket = directory.resolve("absent/vm0.sock");
        assertOneLine(VioplaneProcess.run("vhost-user-net", "--socket-path", socket.toString()), 1,
                "vioplane vhost-user-net: " + socket + ": directory " + socket.getParent() + " does not exist");
    }

    @Test
    void socketPathThatIsARegularFileIsNotReplaced(@TempDir final Path directory) throws Exception {
        final Path file = Files.writeString(directory.resolve("notes.txt"), "keep me");
        assertOneLine(VioplaneProcess.run("vhost-user-net", "--socket-path", file.toString()), 1,
                "vioplane vhost-user-net: " + file + ": exists and is not a socket; refusing to replace it");
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void socketWhereALiveDaemonListensIsRefusedWithoutTheDaemonSeeingAFrontEnd(@TempDir final Path directory)
            throws Exception {
        final Path socket = directory.resolve("vm0.sock");
        try (VioplaneProcess live = VioplaneProcess.start(List.of(), Map.of(), "vhost-user-net", "--socket-path",
                socket.toString())) {
            assertOneLine(VioplaneProcess.run("vhost-user-net", "--socket-path", socket.toString()), 1,
                    "vioplane vhost-user-net: " + socket + ": another process is listening on it");
            assertFalse(live.stderr().contains("front-end connected"), live.stderr());
            assertEquals(0, live.stop(), live.stderr());
        }
    }

    @Test
    void tapNameLongerThanFifteenCharactersIsRefusedBeforeStartUp(@TempDir final Path directory) throws Exception {
        assertOneLine(VioplaneProcess.run("vhost-user-net", "--socket-path", directory.resolve("vm0.sock").toString(),
                "--tap", "vioplane-tap-0123"), 2, "vioplane vhost-user-net: --tap: interface name 'vioplane-tap-0123'"
                + " must be 1..15 characters (it has 17)");
    }

    @Test
    void cpuTheProcessMayNotRunOnIsRefused(@TempDir final Path directory) throws Exception {
        assertOneLineStartingWith(VioplaneProcess.run("vhost-user-net", "--socket-path",
                directory.resolve("vm0.sock").toString(), "--cpu", "99"), 2,
                "vioplane vhost-user-net: --cpu: CPU 99 is not one this process may run on (allowed: ");
    }

    @Test
    void captureExportIntoAMissingDirectoryNamesTheFile(@TempDir final Path directory) throws Exception {
        final Path journal = directory.resolve("cap");
        try (PacketCapture capture = new PacketCapture(journal, PacketCapture.DEFAULT_SNAP_BYTES, 1 << 20,
                Counters.inMemory(8)); Arena arena = Arena.ofConfined()) {
            capture.registerPort(0, "vm0");
            final MemorySegment frame = arena.allocate(64);
            assertTrue(capture.record(0, 0, frame, 0, 64));
            capture.flush();
        }
        final Path pcap = directory.resolve("absent/out.pcap");
        assertOneLine(VioplaneProcess.run("capture", "export", journal.toString(), "--pcap", pcap.toString()), 1,
                "vioplane capture export: " + pcap + ": directory " + pcap.getParent() + " does not exist (--pcap)");
        final VioplaneProcess.Result exported = VioplaneProcess.run("capture", "export", journal.toString(), "--pcap",
                directory.resolve("out.pcap").toString());
        assertEquals(0, exported.exitCode(), exported.stderr());
        assertTrue(exported.stdout().startsWith("exported 1 frame(s)"), exported.stdout());
    }

    @Test
    void captureExportFromADirectoryWithoutAJournalFails(@TempDir final Path directory) throws Exception {
        final Path empty = Files.createDirectory(directory.resolve("empty"));
        final Path pcap = directory.resolve("out.pcap");
        assertOneLine(VioplaneProcess.run("capture", "export", empty.toString(), "--pcap", pcap.toString()), 1,
                "vioplane capture export: " + empty + ": no capture journal here (no *.cq4 file); record one with"
                        + " vhost-user-net --capture DIR");
        assertFalse(Files.exists(pcap), "no empty pcap is left behind");
    }

    @Test
    void verboseAddsTheStackTraceToAnExpectedFailure(@TempDir final Path directory) throws Exception {
        final VioplaneProcess.Result result = VioplaneProcess.run("capture", "export", directory.toString(), "--pcap",
                directory.resolve("out.pcap").toString(), "--verbose");
        assertEquals(1, result.exitCode());
        assertTrue(result.errorLines().getFirst().startsWith("vioplane capture export: " + directory + ": "),
                result.stderr());
        assertTrue(result.stderr().contains("\tat io.vioplane.cli."), result.stderr());
    }

    @Test
    void benchIncludeMatchingNothingSaysSo() throws Exception {
        assertOneLine(VioplaneProcess.run("bench", "-i", "NOMATCH"), 2, "vioplane bench: --include: no benchmark"
                + " matched NOMATCH (names look like platform.SyscallBenchmark.getpidDowncall)");
    }

    @Test
    void benchRefusesAnUnknownPeerGroup() throws Exception {
        assertOneLine(VioplaneProcess.run("bench", "--peers", "bogus"), 2,
                "vioplane bench: --peers: unknown group 'bogus' (groups: vhost-user, tap, latency, blk, exits)");
    }

    @Test
    void benchRefusesQuickWithFull() throws Exception {
        assertOneLine(VioplaneProcess.run("bench", "--quick", "--full"), 2,
                "vioplane bench: --quick: --quick and --full exclude each other");
    }

    @Test
    void benchRefusesIncludeWithPeersOnly() throws Exception {
        assertOneLine(VioplaneProcess.run("bench", "--peers-only", "-i", "SyscallBenchmark"), 2,
                "vioplane bench: --include: selects JMH benchmarks, but --peers-only runs none");
    }

    @Test
    void benchRefusesACsvFileInAMissingDirectory(@TempDir final Path directory) throws Exception {
        final Path csv = directory.resolve("absent/rows.csv");
        assertOneLine(VioplaneProcess.run("bench", "--peers-only", "--csv", csv.toString()), 1,
                "vioplane bench: " + csv + ": directory " + csv.getParent() + " does not exist (--csv)");
    }

    @Test
    void statRefusesAWatchPeriodBelowOneSecond() throws Exception {
        for (String period : List.of("-1", "0")) {
            assertOneLine(VioplaneProcess.run("stat", "--watch", period), 2,
                    "vioplane stat: --watch: the period must be at least 1 second, not " + period);
        }
    }

    @Test
    void unknownOptionIsOneLinePointingAtHelp() throws Exception {
        assertOneLine(VioplaneProcess.run("stat", "--colour"), 2,
                "vioplane stat: Unknown option: '--colour' (see vioplane stat --help)");
    }

    @Test
    void blockDaemonWithoutItsImageNamesTheFlag(@TempDir final Path directory) throws Exception {
        final Path image = directory.resolve("absent.img");
        assertOneLine(VioplaneProcess.run("vhost-user-blk", "--socket-path", directory.resolve("blk.sock").toString(),
                "--image", image.toString()), 2, "vioplane vhost-user-blk: --image: " + image
                + ": no such file or device");
    }

    @Test
    void blockDaemonRefusesASocketInAMissingDirectory(@TempDir final Path directory) throws Exception {
        final Path image = Files.write(directory.resolve("disk.img"), new byte[1 << 20]);
        final Path socket = directory.resolve("absent/blk.sock");
        assertOneLine(VioplaneProcess.run("vhost-user-blk", "--socket-path", socket.toString(), "--image",
                image.toString()), 1, "vioplane vhost-user-blk: " + socket + ": directory " + socket.getParent()
                + " does not exist");
    }

    @Test
    void blockDaemonSaysReadyWritesItsPidFileAndStopsWithExitZero(@TempDir final Path directory) throws Exception {
        final Path image = Files.write(directory.resolve("disk.img"), new byte[1 << 20]);
        final Path pidFile = directory.resolve("blk.pid");
        try (VioplaneProcess daemon = VioplaneProcess.start(List.of(), Map.of(), "vhost-user-blk", "--socket-path",
                directory.resolve("blk.sock").toString(), "--image", image.toString(), "--pid-file",
                pidFile.toString())) {
            assertTrue(daemon.stderr().contains("vioplane: ready (" + image + ", 1 queue(s), writeback, counters:"
                    + " vioplane stat --pid " + daemon.pid()), daemon.stderr());
            assertEquals(daemon.pid() + "\n", Files.readString(pidFile));
            assertEquals(0, daemon.stop(), daemon.stderr());
            assertTrue(daemon.stderr().contains("vioplane: stopping\nvioplane: drops by reason: "), daemon.stderr());
        }
        assertFalse(Files.exists(pidFile), "the pid file is removed at exit");
    }

    @Test
    void runWithAnImageThatIsNotElfNamesTheFile(@TempDir final Path directory) throws Exception {
        final Path image = Files.writeString(directory.resolve("guest.elf"), "#!/bin/sh\n");
        assertOneLine(VioplaneProcess.run("run", image.toString()), 2,
                "vioplane run: " + image + ": not an ELF file (no \\x7fELF magic)");
    }

    @Test
    void runRefusesADeviceItDoesNotHave(@TempDir final Path directory) throws Exception {
        final Path image = Files.writeString(directory.resolve("guest.elf"), "x");
        assertOneLine(VioplaneProcess.run("run", image.toString(), "--device", "e1000,virtio-net"), 2,
                "vioplane run: --device: unknown device 'virtio-net' (known: e1000, iommu)");
        assertOneLine(VioplaneProcess.run("run", image.toString(), "--device", "e1000", "--device", "e1000"), 2,
                "vioplane run: --device: e1000 given twice: a machine has one e1000");
        assertOneLine(VioplaneProcess.run("run", image.toString(), "--tap", "tap0"), 2,
                "vioplane run: --tap: needs --device e1000");
    }

    @Test
    void runRefusesAMemorySizeItCannotGive(@TempDir final Path directory) throws Exception {
        final Path image = Files.writeString(directory.resolve("guest.elf"), "x");
        assertOneLine(VioplaneProcess.run("run", image.toString(), "--memory", "lots"), 2,
                "vioplane run: --memory: not a memory size: lots");
    }

    @Test
    void everyHelpListsTheExitCodes() throws Exception {
        for (List<String> command : List.of(List.of("bench"), List.of("stat"), List.of("vhost-user-net"),
                List.of("vhost-user-blk"), List.of("run"), List.of("capture", "export"))) {
            final List<String> args = new java.util.ArrayList<>(command);
            args.add("--help");
            final VioplaneProcess.Result help = VioplaneProcess.run(args.toArray(String[]::new));
            assertEquals(0, help.exitCode());
            assertTrue(help.stdout().contains("Exit codes:"), help.stdout());
            assertTrue(help.stdout().contains("  2   wrong arguments"), help.stdout());
        }
    }

    @Test
    void daemonStartsQuietlyInAFreshNamespaceWhoseLoopbackIsDown(@TempDir final Path directory) throws Exception {
        Requirements.requireRoot();
        try (Netns netns = Netns.create("lo-down")) {
            netns.exec("ip", "link", "set", "lo", "down");
            try (VioplaneProcess daemon = VioplaneProcess.start(List.of("ip", "netns", "exec", netns.name()), Map.of(),
                    "vhost-user-net", "--socket-path", directory.resolve("vm0.sock").toString())) {
                assertFalse(daemon.stderr().contains("WARN"), daemon.stderr());
                assertFalse(daemon.stderr().contains("\tat "), daemon.stderr());
                assertEquals(0, daemon.stop());
            }
        }
    }
}

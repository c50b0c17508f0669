package io.vioplane.cli.remote;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.tap.bridge.TapBridgePort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The project's bare-metal 82540EM driver ({@code e1000_ping}, cpu-vmx-core's guest programs) moving frames through
 * vioplane's e1000, served to QEMU (TCG) as a remote PCI device ({@code x-pci-proxy-dev}) and bridged onto a TAP in
 * a network namespace: the kernel there pings the guest. The driver polls its rings, so it needs no interrupt (which
 * the proxy cannot deliver under TCG). The same image on QEMU's own e1000 is cpu-vmx-core's
 * {@code E1000GuestDriverQemuTest}; both must give the same accounting: the guest's, the device's GPTC/GPRC and the
 * kernel's TAP counters agree frame for frame, with one register write per frame.
 */
class E1000GuestDriverRemoteTest {
    private static final String TAP = "e1kremote0";
    private static final long MAC_EEPROM = 0x5634_1200_5452L;
    private static final Pattern RESULT = Pattern.compile("RESULT: e1000 link=1 tx=(\\d+) rx=(\\d+) arp=(\\d+)"
            + " echo=5 gptc=(\\d+) gprc=(\\d+) mmio=(\\d+)\n");
    private static final String FD_LAUNCHER = "use Socket; $^F = 1023; my $path = shift;"
            + " socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die \"socket: $!\\n\";"
            + " connect($s, pack_sockaddr_un($path)) or die \"connect $path: $!\\n\";"
            + " my $fd = fileno($s); s/\\{fd\\}/$fd/g for @ARGV; exec { $ARGV[0] } @ARGV or die \"exec: $!\\n\";";

    @TempDir
    Path directory;

    @Test
    void theGuestDriverAnswersPingsThroughVioplanesE1000OnATap() throws Exception {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("qemu-system-x86_64", "QEMU (qemu-system-x86)");
        Requirements.requireCommand("perl", "perl-base");
        Requirements.requireCommand("ping", "iputils-ping");
        final Path image = Path.of(System.getProperty("vioplane.root", ".."), "cpu-vmx-core/target/guests/e1000_ping.elf");
        Requirements.require(Files.isRegularFile(image), "guest image " + image + " (built by cpu-vmx-core with gcc)");
        final Path socket = directory.resolve("e1000.sock");
        final Path console = directory.resolve("console");
        final Counters counters = Counters.inMemory(512);
        final ErrorLog log = ErrorLog.printingTo(System.err);
        final Bridge bridge = Bridge.create("br0", counters);
        try (Netns netns = Netns.create("e1kr");
             TapBridgePort tap = new TapBridgePort(TAP, false, bridge, 1500, counters, null, log);
             GuestBridgePort guest = new GuestBridgePort("e1000", bridge, 1500, null, 256)) {
            netns.adopt(TAP);
            netns.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.61.0.1/24", "dev", TAP);
            netns.exec("ip", "link", "set", TAP, "up");
            final int listening = UnixSockets.socket(false);
            final CompletableFuture<RemoteE1000> device = new CompletableFuture<>();
            final CompletableFuture<String> served;
            try {
                UnixSockets.bind(listening, socket.toString());
                UnixSockets.listen(listening, 1);
                served = CompletableFuture.supplyAsync(() -> {
                    final RemoteE1000 e1000 = new RemoteE1000(UnixSockets.accept(listening, false), guest, tap,
                            MAC_EEPROM, counters, log, "e1000[remote]");
                    device.complete(e1000);
                    return e1000.serve();
                });
                final Process qemu = new ProcessBuilder(List.of("perl", "-e", FD_LAUNCHER, socket.toString(),
                        "qemu-system-x86_64", "-accel", "tcg", "-machine", "q35,memory-backend=mem", "-m", "64",
                        "-object", "memory-backend-memfd,id=mem,size=64M,share=on", "-display", "none",
                        "-no-reboot", "-nodefaults", "-kernel", image.toString(), "-debugcon", "file:" + console,
                        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                        "-device", "x-pci-proxy-dev,id=p0,fd={fd}"))
                        .redirectErrorStream(true).redirectOutput(directory.resolve("qemu.log").toFile()).start();
                try {
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while (!consoleOf(console).contains("e1000 ready")) {
                        assertTrue(qemu.isAlive() && System.nanoTime() < deadline,
                                "the guest driver gets ready on vioplane's e1000:\n" + consoleOf(console)
                                        + Files.readString(directory.resolve("qemu.log")));
                        Thread.sleep(50);
                    }
                    final String ping = netns.exec("ping", "-c", "5", "-W", "10", "10.61.0.2");
                    assertTrue(ping.contains("5 packets transmitted, 5 received"), ping);
                    assertTrue(qemu.waitFor(120, TimeUnit.SECONDS), "the guest stops after 5 pings");
                } finally {
                    qemu.destroyForcibly();
                    qemu.waitFor(10, TimeUnit.SECONDS);
                }
                assertEquals(1, qemu.exitValue(), "isa-debug-exit with status 0:\n" + consoleOf(console));
                served.get(30, TimeUnit.SECONDS);
            } finally {
                UnixSockets.shutdownQuietly(listening);
                FileIo.closeQuietly(listening);
            }
            final String text = consoleOf(console);
            assertTrue(text.contains(" mac 52:54:00:12:34:56 link up"), "the MAC from vioplane's EEPROM:\n" + text);
            final Matcher result = RESULT.matcher(text);
            assertTrue(result.find(), text);
            final long guestSent = Long.parseLong(result.group(1));
            final long guestReceived = Long.parseLong(result.group(2));
            final long arpAnswered = Long.parseLong(result.group(3));
            assertEquals(5 + 3 + arpAnswered, guestSent, "5 echo replies, 3 announcements and the ARP replies");
            assertEquals(guestSent, Long.parseLong(result.group(4)), "vioplane's GPTC counts what the guest sent");
            assertEquals(guestReceived, Long.parseLong(result.group(5)), "vioplane's GPRC counts what it received");
            assertEquals(guestSent + guestReceived, Long.parseLong(result.group(6)),
                    "one register write (TDT or RDT) per frame, as on QEMU's own e1000");
            assertEquals(guestSent, statistic(netns, "rx_packets"), "the TAP received every frame the guest sent");
            assertEquals(guestReceived, statistic(netns, "tx_packets"),
                    "the guest received every frame the kernel sent to the TAP");
            try (RemoteE1000 e1000 = device.get()) {
                System.err.println("e1000 remote counters: " + e1000.deviceCounters() + " "
                        + e1000.protocolCounters());
            }
        }
    }

    private static long statistic(final Netns netns, final String name) {
        return Long.parseLong(netns.exec("cat", "/sys/class/net/" + TAP + "/statistics/" + name).strip());
    }

    private static String consoleOf(final Path console) throws java.io.IOException {
        return Files.exists(console) ? Files.readString(console) : "";
    }
}

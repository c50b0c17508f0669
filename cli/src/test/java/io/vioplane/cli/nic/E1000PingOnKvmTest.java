package io.vioplane.cli.nic;

import io.vioplane.cli.VioplaneProcess;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
 * {@code vioplane run --device e1000 --tap} on this machine's /dev/kvm: the project's own e1000 driver
 * ({@code e1000_ping}, polling) in a guest on vioplane's machine answers 5 pings from a network namespace through
 * vioplane's 82540EM bridged onto a TAP there; the guest's counts, the device's GPTC/GPRC, vioplane's report and the
 * kernel's TAP counters agree, with one register write (TDT or RDT) per frame.
 */
@Tag("netns")
class E1000PingOnKvmTest {
    private static final Pattern RESULT = Pattern.compile("(?m)^result: e1000 link=1 tx=(\\d+) rx=(\\d+) arp=(\\d+)"
            + " echo=5 gptc=(\\d+) gprc=(\\d+) mmio=(\\d+)\\s*$");
    private static final String TAP = "e1kkvm0";

    private static long tapStatistic(final Netns netns, final String name) {
        return Long.parseLong(netns.exec("cat", "/sys/class/net/" + TAP + "/statistics/" + name).strip());
    }

    @Test
    void e1000PingAnswersFivePingsFromTheNamespace() throws Exception {
        Requirements.requireKvm();
        Requirements.requireTapAndNetns();
        final Path image = Path.of("").toAbsolutePath().getParent().resolve("cpu-vmx-core/target/guests/e1000_ping.elf");
        Requirements.require(Files.isRegularFile(image), image + " (built by cpu-vmx-core with gcc)");
        try (Netns netns = Netns.create("e1k")) {
            netns.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
            netns.exec("ip", "tuntap", "add", "dev", TAP, "mode", "tap");
            netns.exec("ip", "addr", "add", "10.61.0.1/24", "dev", TAP);
            netns.exec("ip", "link", "set", TAP, "up");
            final List<String> inNetns = netns.commandLine();
            final CompletableFuture<VioplaneProcess.Result> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return VioplaneProcess.run(inNetns, "run", "--watchdog", "60", "--device", "e1000", "--tap", TAP,
                            image.toString());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (tapStatistic(netns, "rx_packets") < 3 && !run.isDone()) {
                assertTrue(System.nanoTime() < deadline, "the guest announced itself (3 gratuitous ARPs) on the TAP");
                Thread.sleep(100);
            }
            final String ping = netns.tryExec("ping", "-c", "5", "-i", "0.2", "-W", "10", "10.61.0.2").output();
            final VioplaneProcess.Result result = run.get(90, TimeUnit.SECONDS);
            final String report = result.stdout() + result.stderr();
            assertTrue(ping.contains("5 packets transmitted, 5 received"), ping + "\n" + report);
            assertEquals(0, result.exitCode(), report);
            final Matcher line = RESULT.matcher(report);
            assertTrue(line.find(), report);
            final long sent = Long.parseLong(line.group(1));
            final long received = Long.parseLong(line.group(2));
            assertEquals(5 + 3 + Long.parseLong(line.group(3)), sent, "5 echo replies, 3 announcements, ARP replies");
            assertEquals(sent, Long.parseLong(line.group(4)), "vioplane's GPTC counts what the guest sent");
            assertEquals(received, Long.parseLong(line.group(5)), "vioplane's GPRC counts what it received");
            assertEquals(sent + received, Long.parseLong(line.group(6)), "one register write (TDT or RDT) per frame");
            assertEquals(sent, tapStatistic(netns, "rx_packets"), "the TAP received every frame the guest sent");
            assertEquals(received, tapStatistic(netns, "tx_packets"), "the guest received every frame sent to it");
            assertTrue(report.contains("frames sent " + sent + ", received " + received + ";"), report);
        }
    }
}

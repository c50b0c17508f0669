package io.vioplane.vmx;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.vmx.testkit.GuestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The project's own bare-metal 82540EM driver ({@code e1000_ping}) on QEMU's e1000 (TCG, the behavioural
 * reference for vioplane's model): the image resets the device, takes its MAC from the EEPROM, brings the link up
 * and answers ARP and ping on legacy rings; QEMU's e1000 is on a TAP inside a network namespace this test makes,
 * where the kernel pings the guest. What the guest counted, what the device counted (GPTC/GPRC) and what the
 * kernel counted on the TAP must agree frame for frame.
 */
class E1000GuestDriverQemuTest {
    private static final long TIMEOUT_SECONDS = 120;
    private static final String TAP = "e1ktap0";
    private static final Pattern RESULT = Pattern.compile(
            "RESULT: e1000 link=1 tx=(\\d+) rx=(\\d+) arp=(\\d+) echo=5 gptc=(\\d+) gprc=(\\d+) mmio=(\\d+)\n");

    @TempDir
    Path directory;

    @Test
    void theGuestDriverAnswersPingsThroughQemusE1000AndEveryCounterAgrees() throws Exception {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("qemu-system-x86_64", "QEMU (qemu-system-x86)");
        Requirements.requireCommand("ping", "iputils-ping");
        final Path image = GuestImages.require("e1000_ping");
        final Path console = directory.resolve("console");
        try (Netns netns = Netns.create("e1k")) {
            netns.exec("ip", "tuntap", "add", "dev", TAP, "mode", "tap");
            netns.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.61.0.1/24", "dev", TAP);
            netns.exec("ip", "link", "set", TAP, "up");
            final List<String> qemu = new ArrayList<>(netns.commandLine("qemu-system-x86_64", "-accel", "tcg",
                    "-M", "q35", "-m", "64", "-display", "none", "-no-reboot", "-nodefaults",
                    "-kernel", image.toString(), "-debugcon", "file:" + console,
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                    "-netdev", "tap,id=n0,ifname=" + TAP + ",script=no,downscript=no",
                    "-device", "e1000,netdev=n0,mac=52:54:00:12:34:56"));
            final Process guest = new ProcessBuilder(qemu).redirectErrorStream(true)
                    .redirectOutput(directory.resolve("qemu.log").toFile()).start();
            try {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
                while (!consoleOf(console).contains("e1000 ready")) {
                    assertTrue(guest.isAlive() && System.nanoTime() < deadline,
                            "the guest driver gets ready:\n" + consoleOf(console) + qemuLog());
                    Thread.sleep(50);
                }
                final String ping = netns.exec("ping", "-c", "5", "-W", "10", "10.61.0.2");
                assertTrue(ping.contains("5 packets transmitted, 5 received"), ping);
                assertTrue(guest.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the guest stops after 5 pings");
            } finally {
                guest.destroyForcibly();
                guest.waitFor(10, TimeUnit.SECONDS);
            }
            assertEquals(1, guest.exitValue(), "isa-debug-exit with status 0:\n" + consoleOf(console));
            final String text = consoleOf(console);
            assertTrue(text.contains(" mac 52:54:00:12:34:56 link up"), "the MAC from the EEPROM:\n" + text);
            final Matcher result = RESULT.matcher(text);
            assertTrue(result.find(), text);
            final long guestSent = Long.parseLong(result.group(1));
            final long guestReceived = Long.parseLong(result.group(2));
            assertTrue(Long.parseLong(result.group(3)) >= 1, "the kernel asked for the guest's MAC: " + text);
            assertEquals(5 + 3 + Long.parseLong(result.group(3)), guestSent,
                    "5 echo replies, 3 announcements and the ARP replies");
            assertEquals(guestSent, Long.parseLong(result.group(4)), "the device's GPTC counts what the guest sent");
            assertEquals(guestReceived, Long.parseLong(result.group(5)),
                    "the device's GPRC counts what the guest received");
            assertEquals(guestSent + guestReceived, Long.parseLong(result.group(6)),
                    "one register write (TDT or RDT) per frame: the exits per frame on the reference device");
            assertEquals(guestSent, statistic(netns, "rx_packets"), "the TAP received every frame the guest sent");
            assertEquals(guestReceived, statistic(netns, "tx_packets"),
                    "the guest received every frame the kernel sent to the TAP");
        }
    }

    private static long statistic(final Netns netns, final String name) {
        return Long.parseLong(netns.exec("cat", "/sys/class/net/" + TAP + "/statistics/" + name).strip());
    }

    private static String consoleOf(final Path console) throws java.io.IOException {
        return Files.exists(console) ? Files.readString(console) : "";
    }

    private String qemuLog() throws java.io.IOException {
        final Path log = directory.resolve("qemu.log");
        return Files.exists(log) ? "\n-- qemu --\n" + Files.readString(log) : "";
    }
}

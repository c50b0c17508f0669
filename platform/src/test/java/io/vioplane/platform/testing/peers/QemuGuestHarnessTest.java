package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest harness end to end: a real Linux guest boots under QEMU inside a network namespace this test
 * creates, with QEMU's own userspace virtio-net on a TAP in that namespace, and the guest's virtio_net driver
 * carries pings both ways between the guest (10.77.0.2) and the namespace (10.77.0.1). One boot serves all
 * the tests of this class.
 */
@Tag("qemu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QemuGuestHarnessTest {
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    private static final String HOST_ADDRESS = "10.77.0.1";
    private static final String GUEST_ADDRESS = "10.77.0.2";
    private static final String GUEST_MAC = "52:54:00:12:34:56";

    private final String tapName = "vpg" + ProcessHandle.current().pid() % 100000;
    private Netns netns;
    private QemuGuest guest;

    @BeforeAll
    void bootGuestOnATapInANamespace() {
        Requirements.requireTapAndNetns();
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        Requirements.requireCommand("ping", "iputils-ping");
        final long startNanos = System.nanoTime();
        final LinuxGuestImage image = LinuxGuestImage.standard();
        System.err.printf("guest image ready in %d ms: %s%n", (System.nanoTime() - startNanos) / 1_000_000, image);
        netns = Netns.create("guest");
        guest = QemuGuest.builder(image)
                .netns(netns)
                .extraArguments("-netdev", "tap,id=n0,ifname=" + tapName + ",script=no,downscript=no",
                        "-device", "virtio-net-pci,netdev=n0,romfile=,mac=" + GUEST_MAC)
                .build();
        guest.start();
        final Duration boot = guest.awaitShell(BOOT_TIMEOUT);
        System.err.printf("guest shell ready %d ms after QEMU started%n", boot.toMillis());
        netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + tapName + ".disable_ipv6=1");
        netns.exec("ip", "addr", "add", HOST_ADDRESS + "/24", "dev", tapName);
        netns.exec("ip", "link", "set", tapName, "up");
        guest.runSuccessfully("ip link set eth0 up && ip addr add " + GUEST_ADDRESS + "/24 dev eth0", COMMAND_TIMEOUT);
    }

    @AfterAll
    void stopGuestAndDeleteNamespace() {
        try {
            if (guest != null) {
                guest.close();
            }
        } finally {
            if (netns != null) {
                netns.close();
            }
        }
    }

    @Test
    void qemuIsTheProcessTheHarnessStartedAndWillEnd() {
        final String command = ProcessHandle.of(guest.pid()).flatMap(handle -> handle.info().command()).orElse("?");
        assertTrue(command.endsWith(QemuGuest.QEMU_PROGRAM), "ip netns exec execs QEMU, so the PID is QEMU's: "
                + command);
    }

    @Test
    void guestBindsItsVirtioNetDriverToEth0() {
        final ShellResult driver = guest.run("basename \"$(readlink /sys/class/net/eth0/device/driver)\"",
                COMMAND_TIMEOUT);
        assertEquals("virtio_net", driver.output().strip(), driver + failureContext());
        assertEquals(0, driver.exitStatus(), driver + failureContext());
    }

    @Test
    void guestPingsTheNamespaceThroughTheTap() {
        final ShellResult ping = guest.run("ping -c 3 -W 5 " + HOST_ADDRESS, COMMAND_TIMEOUT);
        assertEquals(0, ping.exitStatus(), ping + failureContext());
        assertTrue(ping.output().contains("bytes from " + HOST_ADDRESS), ping + failureContext());
    }

    @Test
    void namespacePingsTheGuestThroughTheTap() {
        final var ping = netns.tryExec("ping", "-c", "2", "-W", "5", GUEST_ADDRESS);
        assertEquals(0, ping.exitCode(), ping.output() + failureContext());
        assertTrue(ping.output().contains("bytes from " + GUEST_ADDRESS), ping.output() + failureContext());
    }

    @Test
    void commandsReportTheirOwnExitStatusAndOutput() {
        final ShellResult result = guest.run("echo first; echo second >&2; (exit 7)", COMMAND_TIMEOUT);
        assertEquals(7, result.exitStatus(), result + failureContext());
        assertEquals("first\nsecond\n", result.output(), result + failureContext());
    }

    @Test
    void bundledIperf3FindsItsLibrariesAndIsTheHostsVersion() {
        final ShellResult version = guest.run("iperf3 --version", COMMAND_TIMEOUT);
        assertEquals(0, version.exitStatus(), version + failureContext());
        final String hostFirstLine = Commands.run("iperf3", "--version").lines().findFirst().orElse("?");
        assertEquals(hostFirstLine, version.output().lines().findFirst().orElse(""), version + failureContext());
    }

    @Test
    void aCommandThatOverrunsItsTimeoutIsInterruptedAndTheShellStaysUsable() {
        assertThrows(GuestTimeoutException.class, () -> guest.run("sleep 600", Duration.ofSeconds(2)));
        final ShellResult after = guest.run("echo still here", COMMAND_TIMEOUT);
        assertEquals("still here\n", after.output(), after + failureContext());
        assertEquals(0, after.exitStatus(), after + failureContext());
    }

    private String failureContext() {
        return "\n--- guest console tail ---\n" + guest.consoleTail(QemuGuest.FAILURE_CONSOLE_TAIL_CHARS);
    }
}

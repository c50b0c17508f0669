package io.vioplane.cli.daemon;

import io.vioplane.cli.VioplaneProcess;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The daemon, a process of its own in a network namespace, bridging a QEMU guest onto a TAP there, is killed with
 * SIGKILL while the guest pings through it, and started again on the same socket. QEMU ({@code reconnect=1})
 * connects again and sends the rings' state it has (the bases it takes from the used rings, since the dead
 * back-end cannot answer GET_VRING_BASE); the guest's network comes back without a reboot of the guest.
 */
@Tag("qemu")
@Tag("netns")
class BackendRestartGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(120);

    @Test
    void theGuestsNetworkComesBackWhenTheKilledDaemonIsStartedAgain(@TempDir final Path directory) throws Exception {
        Requirements.requireTapAndNetns();
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        final String tapName = "vpr" + ProcessHandle.current().pid() % 10000;
        final Path socket = directory.resolve("vm.sock");
        final Path recording = directory.resolve("qemu.rec");
        final String[] daemonArguments = {"vhost-user-net", "--socket-path", socket.toString(), "--tap", tapName,
            "--mac", "52:54:00:59:00:02", "--record-protocol", recording.toString()};
        try (Netns netns = Netns.create("restart")) {
            netns.exec("ip", "tuntap", "add", "dev", tapName, "mode", "tap");
            netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + tapName + ".disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.59.0.1/24", "dev", tapName);
            netns.exec("ip", "link", "set", tapName, "up");
            try (VioplaneProcess first = VioplaneProcess.start(netns.commandLine(), Map.of(), daemonArguments);
                 QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard()).extraArguments(
                         "-chardev", "socket,id=c0,path=" + socket + ",reconnect=1",
                         "-netdev", "vhost-user,id=n0,chardev=c0",
                         "-device", "virtio-net-pci,netdev=n0,romfile=,vectors=0,mac=52:54:00:59:00:02").build()) {
                guest.start();
                guest.awaitShell(BOOT);
                guest.runSuccessfully("ip link set eth0 up && ip addr add 10.59.0.2/24 dev eth0"
                        + " && ping -c 3 -W 10 10.59.0.1", COMMAND);
                guest.runSuccessfully("ping -i 0.2 -c 100000 10.59.0.1 > /tmp/ping.log 2>&1 &", COMMAND);
                final double uptimeBefore = uptime(guest);
                first.kill();
                Thread.sleep(2_000);
                try (VioplaneProcess second = VioplaneProcess.start(netns.commandLine(), Map.of(), daemonArguments)) {
                    assertTrue(second.await("front-end connected", COMMAND.toMillis()),
                            "QEMU connects to the restarted daemon:\n" + second.stderr());
                    final ShellResult back = guest.run("(for i in $(seq 1 90); do ping -c 1 -W 1 10.59.0.1 >/dev/null"
                            + " && exit 0; done; exit 1)", COMMAND);
                    assertEquals(0, back.exitStatus(), "the guest's network came back:\n" + second.stderr());
                    final ShellResult ping = guest.runSuccessfully("ping -c 5 -W 5 10.59.0.1", COMMAND);
                    assertTrue(ping.output().contains("5 packets received"), ping.output());
                    assertTrue(uptime(guest) > uptimeBefore, "the same guest runs on: it was not rebooted");
                    assertTrue(guest.isAlive());
                    guest.runSuccessfully("kill -INT $(pidof ping) 2>/dev/null; true", COMMAND);
                }
            }
        }
        ProtocolRecordings.keep(recording, "qemu-backend-restart");
        final String recorded = Files.readString(recording);
        assertFalse(recorded.contains("refused"), "the daemon refused a request QEMU sent:\n" + recorded);
        assertEquals(2, recorded.lines().filter(line -> line.startsWith("# connected")).count(),
                "one connection before the kill, one after");
        assertTrue(recorded.substring(recorded.lastIndexOf("# connected")).contains("SET_VRING_BASE"),
                "QEMU sent the ring bases again");
    }

    private static double uptime(final QemuGuest guest) {
        return Double.parseDouble(guest.runSuccessfully("cut -d' ' -f1 /proc/uptime", COMMAND).output().strip());
    }
}

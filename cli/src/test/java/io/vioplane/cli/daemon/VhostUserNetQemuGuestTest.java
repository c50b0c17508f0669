package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.tap.bridge.BridgePortCounters;
import io.vioplane.virtionet.VirtioNetFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two Linux guests under QEMU whose own virtio_net drivers negotiate with the daemon over vhost-user, bridged
 * through it: the links come up and the guests ping each other. The guests' drivers are the peers (Debian's
 * kernel, unmodified); the traffic never leaves the daemon's bridge.
 */
@Tag("qemu")
class VhostUserNetQemuGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private static QemuGuest guest(final LinuxGuestImage image, final Path socket, final String mac) {
        return QemuGuest.builder(image).extraArguments(
                "-chardev", "socket,id=c0,path=" + socket,
                "-netdev", "vhost-user,id=n0,chardev=c0",
                "-device", "virtio-net-pci,netdev=n0,romfile=,vectors=0,mac=" + mac).build();
    }

    @Test
    void twoLinuxGuestsBridgedThroughTheDaemonPingEachOther(@TempDir final Path directory) {
        Requirements.requireRoot();
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        final LinuxGuestImage image = LinuxGuestImage.standard();
        final Path socketA = directory.resolve("a.sock");
        final Path socketB = directory.resolve("b.sock");
        final VhostUserNetDaemon.Config config = new VhostUserNetDaemon.Config(List.of(socketA, socketB), false, 0600,
                1, VhostUserNetDaemon.PortKind.BRIDGE, new byte[] {0x52, 0x54, 0x00, 0x66, 0x00, 0x01}, 1500,
                VirtioNetFeature.all() & ~io.vioplane.vring.VirtioFeature.bit(VirtioNetFeature.MQ), null, true, null,
                false, -1, null);
        try (VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config, System.err);
             QemuGuest a = guest(image, socketA, "52:54:00:66:00:01");
             QemuGuest b = guest(image, socketB, "52:54:00:66:00:02")) {
            a.start();
            b.start();
            a.awaitShell(BOOT);
            b.awaitShell(BOOT);
            assertEquals("virtio_net", a.runSuccessfully("basename $(readlink /sys/class/net/eth0/device/driver)", COMMAND)
                    .output().strip(), "the guest's own virtio_net driver drives the device");
            a.runSuccessfully("ip link set eth0 up && ip addr add 10.66.0.1/24 dev eth0", COMMAND);
            b.runSuccessfully("ip link set eth0 up && ip addr add 10.66.0.2/24 dev eth0", COMMAND);
            final String waitUp = "(for i in $(seq 1 50); do [ \"$(cat /sys/class/net/eth0/operstate)\" = up ] && exit 0;"
                    + " sleep 0.2; done; exit 1)";
            assertEquals(0, a.run(waitUp, COMMAND).exitStatus(), "guest A's link comes up");
            assertEquals(0, b.run(waitUp, COMMAND).exitStatus(), "guest B's link comes up");
            final ShellResult ping = a.run("ping -c 5 -W 10 10.66.0.2", COMMAND);
            assertEquals(0, ping.exitStatus(), "guest A pings guest B through the daemon:\n" + ping.output()
                    + "\n--- guest A console ---\n" + a.consoleTail(3000));
            assertTrue(ping.output().contains("5 packets received"), ping.output());
            final ShellResult back = b.run("ping -c 3 -W 10 10.66.0.1", COMMAND);
            assertEquals(0, back.exitStatus(), back.output());
            final BridgePortCounters portA = daemon.bridge().counters(0);
            final BridgePortCounters portB = daemon.bridge().counters(1);
            assertTrue(portA.inPackets() >= 8 && portB.inPackets() >= 8, "the frames crossed the bridge");
            assertEquals(0, portA.spoofed() + portB.spoofed(), "each guest used its own MAC");
        }
    }
}

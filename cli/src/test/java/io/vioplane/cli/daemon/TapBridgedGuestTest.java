package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.tap.capture.PcapExporter;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bridged mode end to end: a Linux guest under QEMU, served by the daemon over vhost-user and bridged onto a host
 * TAP that lives in a network namespace the test creates. The guest pings the namespace and runs iperf3 TCP
 * against a server there with checksum and segmentation offloads on; every frame is captured and the exported
 * pcap read back by tshark. The same guest with the offloads withheld runs iperf3 both ways too, so the
 * throughput with and without them shows in the test output (figures, not assertions: this is a TCG guest).
 */
@Tag("qemu")
@Tag("netns")
class TapBridgedGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration COMMAND = Duration.ofSeconds(90);

    @Test
    void aGuestBridgedOntoATapReachesTheNamespaceWithOffloads(@TempDir final Path directory) throws Exception {
        requirePeers();
        final String tapName = "vpg" + ProcessHandle.current().pid() % 10000;
        final Path socket = directory.resolve("vm.sock");
        final Path journal = directory.resolve("capture");
        final long features = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);
        try (Netns netns = Netns.create("bridged");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(bridged(socket, 0x02, features, tapName, journal),
                     System.err);
             QemuGuest guest = guestOn(socket, 0x02)) {
            GuestNetwork.addressTapInNamespace(netns, tapName, "10.55.0.1/24");
            guest.start();
            guest.awaitShell(BOOT);
            guest.runSuccessfully("ip link set eth0 up && ip addr add 10.55.0.2/24 dev eth0", COMMAND);
            final ShellResult ping = guest.run("ping -c 3 -W 10 10.55.0.1", COMMAND);
            assertEquals(0, ping.exitStatus(), "the guest pings the namespace through bridge and TAP:\n" + ping.output());
            assertTrue(ping.output().contains("3 packets received"), ping.output());

            final String offloads = guest.runSuccessfully("ethtool -k eth0 2>/dev/null | grep -E"
                    + " 'tcp-segmentation-offload|tx-checksumming' || true", COMMAND).output();
            final ShellResult iperf = iperfBothWays(guest, netns, directory, "offloads on");
            assertTrue(iperf.output().contains("receiver"), iperf.output());
            System.out.println(offloads);
            assertNotEquals(0, daemon.dataPlane().call(() -> daemon.tapOffloads()),
                    "TUNSETOFFLOAD follows the guest's acked offloads");
        }
        final Path pcap = directory.resolve("bridged.pcap");
        assertTrue(PcapExporter.export(journal, pcap, PcapExporter.Format.PCAP, null) > 0);
        if (Requirements.onPath("tshark")) {
            final String icmp = Commands.run("tshark", "-r", pcap.toString(), "-Y", "icmp", "-T", "fields", "-e", "ip.dst");
            assertTrue(icmp.contains("10.55.0.1") && icmp.contains("10.55.0.2"), "tshark sees the pings both ways:\n" + icmp);
        }
    }

    @Test
    void aBridgedGuestWithoutOffloadsStillCarriesTcpBothWays(@TempDir final Path directory) throws Exception {
        requirePeers();
        final String tapName = "vpo" + ProcessHandle.current().pid() % 10000;
        final Path socket = directory.resolve("vm.sock");
        final long features = VirtioNetFeature.all() & ~VirtioFeature.mask(VirtioNetFeature.MQ, VirtioNetFeature.CSUM,
                VirtioNetFeature.HOST_TSO4, VirtioNetFeature.HOST_TSO6, VirtioNetFeature.GUEST_CSUM,
                VirtioNetFeature.GUEST_TSO4, VirtioNetFeature.GUEST_TSO6);
        try (Netns netns = Netns.create("nooffload");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(bridged(socket, 0x03, features, tapName, null),
                     System.err);
             QemuGuest guest = guestOn(socket, 0x03)) {
            GuestNetwork.addressTapInNamespace(netns, tapName, "10.55.0.1/24");
            guest.start();
            guest.awaitShell(BOOT);
            guest.runSuccessfully("ip link set eth0 up && ip addr add 10.55.0.3/24 dev eth0", COMMAND);
            iperfBothWays(guest, netns, directory, "offloads off");
            assertEquals(0, daemon.dataPlane().call(() -> daemon.tapOffloads()),
                    "a guest without GUEST_CSUM gets no offloaded frames from the TAP");
        }
    }

    private static void requirePeers() {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("iperf3", "iperf3");
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
    }

    /** A daemon bridging guest 52:54:00:55:00:{@code macLastByte} onto {@code tapName}, capturing if a journal is given. */
    private static VhostUserNetDaemon.Config bridged(final Path socket, final int macLastByte, final long features,
                                                     final String tapName, final Path journal) {
        return new VhostUserNetDaemon.Config(List.of(socket), false, 0600, 1, VhostUserNetDaemon.PortKind.BRIDGE,
                new byte[] {0x52, 0x54, 0x00, 0x55, 0x00, (byte) macLastByte}, 1500, features, tapName, true, journal,
                false, -1, null);
    }

    private static QemuGuest guestOn(final Path socket, final int macLastByte) {
        return QemuGuest.builder(LinuxGuestImage.standard()).extraArguments(
                "-chardev", "socket,id=c0,path=" + socket, "-netdev", "vhost-user,id=n0,chardev=c0",
                "-device", String.format("virtio-net-pci,netdev=n0,romfile=,vectors=0,mac=52:54:00:55:00:%02x",
                        macLastByte)).build();
    }

    /**
     * iperf3 TCP from the guest to a server in the namespace, then from the namespace into the guest; both must
     * succeed and their figures go to the test output.
     *
     * @return the guest-to-namespace run
     */
    private static ShellResult iperfBothWays(final QemuGuest guest, final Netns netns, final Path directory,
                                             final String label) throws Exception {
        Process server = GuestNetwork.startIperfServer(netns, directory, "10.55.0.1");
        try {
            final ShellResult out = guest.run("iperf3 -c 10.55.0.1 -t 3 -f m", COMMAND);
            assertEquals(0, out.exitStatus(), "iperf3 TCP from the guest to the namespace:\n" + out.output());
            System.out.println("bridged guest iperf3 (TCP, " + label + "):\n" + out.output());
            server.waitFor();
            server = GuestNetwork.startIperfServer(netns, directory, "10.55.0.1");
            final ShellResult in = guest.run("iperf3 -c 10.55.0.1 -t 3 -f m -R", COMMAND);
            assertEquals(0, in.exitStatus(), "iperf3 TCP from the namespace to the guest:\n" + in.output());
            System.out.println("bridged guest iperf3 -R (TCP into the guest, " + label + "):\n" + in.output());
            return out;
        } finally {
            server.destroy();
            server.waitFor();
        }
    }
}

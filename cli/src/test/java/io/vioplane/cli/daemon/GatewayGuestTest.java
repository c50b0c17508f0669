package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.tap.device.TapDevice;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.tap.gateway.NatConfig;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.PortForward;
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
 * The daemon's virtual gateway with a Linux guest under QEMU over vhost-user. NAT mode: the guest's busybox
 * {@code udhcpc} leases its address from the gateway, pings it, pings and runs iperf3 TCP against a server in a
 * network namespace the test creates (where the NAT's TAP lives), and a client in the namespace reaches the
 * guest's iperf3 server through a port forward. Host-only mode: the guest leases and pings the gateway, and
 * nothing beyond it is reachable.
 */
@Tag("qemu")
@Tag("netns")
class GatewayGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration COMMAND = Duration.ofSeconds(90);
    private static final String GUEST_MAC = "52:54:00:57:00:02";
    private static final long FEATURES = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);
    /** Applies a busybox udhcpc lease: address with its prefix length, and the default route. */
    private static final String LEASE_SCRIPT = "printf '%s\\n' '#!/bin/sh'"
            + " '[ \"$1\" = bound ] && ip addr add \"$ip/$mask\" dev \"$interface\""
            + " && ip route add default via \"$router\" dev \"$interface\"' 'exit 0' > /tmp/lease.sh"
            + " && chmod +x /tmp/lease.sh";

    @Test
    void aGuestLeasesThroughTheNatReachesTheNamespaceAndIsReachedByAForward(@TempDir final Path directory)
            throws Exception {
        requirePeers();
        Requirements.requireCommand("iperf3", "iperf3");
        final String natTap = "vpn" + ProcessHandle.current().pid() % 10000 + "g";
        final NatConfig nat = NatConfig.builder()
                .nat(natTap, Ipv4Address.parse("10.57.0.2"), 24, Ipv4Address.parse("10.57.0.1"))
                .hostOffloads(TapDevice.TUN_F_CSUM | TapDevice.TUN_F_TSO4 | TapDevice.TUN_F_TSO6)
                .forward(PortForward.parse("tcp:8080:10.0.2.15:5201"))
                .build();
        final Path socket = directory.resolve("vm.sock");
        Process iperfServer = null;
        try (Netns netns = Netns.create("natguest");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config(socket, nat), System.err);
             QemuGuest guest = guestOn(socket)) {
            netns.adopt(natTap);
            netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + natTap + ".disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.57.0.1/24", "dev", natTap);
            netns.exec("ip", "link", "set", natTap, "up");
            iperfServer = new ProcessBuilder(netns.commandLine("iperf3", "-s", "-1", "-B", "10.57.0.1"))
                    .redirectErrorStream(true).redirectOutput(directory.resolve("iperf3-server.log").toFile()).start();

            guest.start();
            guest.awaitShell(BOOT);
            lease(guest);
            assertPings(guest, "10.0.2.2", "the gateway answers its own address");
            assertPings(guest, "10.57.0.1", "ICMP echo is translated to the namespace and back");

            final ShellResult outbound = guest.run("iperf3 -c 10.57.0.1 -t 3 -f m", COMMAND);
            assertEquals(0, outbound.exitStatus(), "iperf3 TCP from the guest through the NAT:\n" + outbound.output());
            assertTrue(outbound.output().contains("receiver"), outbound.output());
            System.out.println("guest -> NAT -> namespace iperf3 (TCP):\n" + outbound.output());

            guest.runSuccessfully("iperf3 -s -1 -D && (for i in $(seq 50); do netstat -ltn | grep -q ':5201 '"
                    + " && exit 0; sleep 0.1; done; exit 1)", COMMAND);
            final String inbound = netns.exec("iperf3", "-c", "10.57.0.2", "-p", "8080", "-t", "2", "-f", "m");
            assertTrue(inbound.contains("receiver"), "a namespace client reaches the guest by the forward:\n" + inbound);
            System.out.println("namespace -> forward -> guest iperf3 (TCP):\n" + inbound);

            final long opened = daemon.dataPlane().call(
                    () -> daemon.gateway().counters().events(NatEvent.CONNECTIONS_OPENED));
            assertTrue(opened >= 4, "ICMP, two iperf3 connections out and two in were tracked: " + opened);
        } finally {
            if (iperfServer != null) {
                iperfServer.destroy();
                iperfServer.waitFor();
            }
        }
    }

    @Test
    void aHostOnlyGuestLeasesAndReachesOnlyTheGateway(@TempDir final Path directory) throws Exception {
        requirePeers();
        final Path socket = directory.resolve("vm.sock");
        try (VhostUserNetDaemon daemon = VhostUserNetDaemon.start(
                config(socket, NatConfig.builder().hostOnly().build()), System.err);
             QemuGuest guest = guestOn(socket)) {
            guest.start();
            guest.awaitShell(BOOT);
            lease(guest);
            assertPings(guest, "10.0.2.2", "the host-only gateway answers its own address");
            final ShellResult beyond = guest.run("ping -c 2 -W 2 10.57.0.1", COMMAND);
            assertNotEquals(0, beyond.exitStatus(), "nothing beyond the gateway answers:\n" + beyond.output());
            final long dropped = daemon.dataPlane().call(
                    () -> daemon.gateway().counters().drops(NatDrop.HOST_ONLY));
            assertTrue(dropped >= 2, "each echo beyond the gateway is counted as a host-only drop: " + dropped);
        }
    }

    private static void requirePeers() {
        Requirements.requireTapAndNetns();
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
    }

    private static VhostUserNetDaemon.Config config(final Path socket, final NatConfig nat) {
        return new VhostUserNetDaemon.Config(List.of(socket), false, 0600, 1, VhostUserNetDaemon.PortKind.BRIDGE,
                new byte[] {0x52, 0x54, 0x00, 0x57, 0x00, 0x02}, 1500, FEATURES, null, true, null, false, -1, nat);
    }

    private static QemuGuest guestOn(final Path socket) {
        return QemuGuest.builder(LinuxGuestImage.standard()).extraArguments(
                "-chardev", "socket,id=c0,path=" + socket, "-netdev", "vhost-user,id=n0,chardev=c0",
                "-device", "virtio-net-pci,netdev=n0,romfile=,vectors=0,mac=" + GUEST_MAC).build();
    }

    private static void lease(final QemuGuest guest) throws Exception {
        guest.runSuccessfully(LEASE_SCRIPT + " && ip link set eth0 up", COMMAND);
        final ShellResult dhcp = guest.run("udhcpc -i eth0 -f -q -n -t 5 -T 2 -s /tmp/lease.sh", COMMAND);
        assertEquals(0, dhcp.exitStatus(), "udhcpc leases from the gateway:\n" + dhcp.output());
        final String address = guest.runSuccessfully("ip -4 addr show eth0; ip route", COMMAND).output();
        assertTrue(address.contains("10.0.2.15/24"), "the first lease is 10.0.2.15/24:\n" + address);
        assertTrue(address.contains("default via 10.0.2.2"), "the gateway is the default route:\n" + address);
    }

    private static void assertPings(final QemuGuest guest, final String address, final String why) throws Exception {
        final ShellResult ping = guest.run("ping -c 3 -W 10 " + address, COMMAND);
        assertEquals(0, ping.exitStatus(), why + ":\n" + ping.output());
        assertTrue(ping.output().contains("3 packets received"), why + ":\n" + ping.output());
    }
}

package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.TapBridgePort;
import io.vioplane.tap.device.TapDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real Linux network stack as the guest: a TAP in a "guest" namespace is joined to the bridge (a
 * {@link TapBridgePort}), busybox {@code udhcpc} leases its address from the gateway, and the guest kernel
 * pings the gateway and talks TCP (busybox nc, iperf3) through the NAT to a "host" namespace holding the NAT's
 * TAP. The bridge port and the gateway run on a real {@link DataPlane} thread. Once with plain frames (both
 * kernels verify every checksum the NAT rewrote), once with checksum and TCP segmentation offloads on both TAPs
 * (partial checksums and 64 KiB GSO frames cross the NAT whole).
 */
@Tag("netns")
class UdhcpcNetnsTest {
    private static final String DNS = "192.0.2.53";

    @Test
    void udhcpcLeasesAnAddressAndARealGuestStackTalksThroughTheNat() throws Exception {
        run(0, false);
    }

    @Test
    void withBroadcastRepliesAndChecksumAndSegmentationOffloadsBothWays() throws Exception {
        run(TapDevice.TUN_F_CSUM | TapDevice.TUN_F_TSO4, true);
    }

    private void run(final int offloads, final boolean broadcastFlag) throws Exception {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("busybox", "busybox (udhcpc, nc)");
        Requirements.requireCommand("iperf3", "iperf3");
        Requirements.requireCommand("ping", "iputils-ping");
        final String suffix = ProcessHandle.current().pid() % 10000 + (broadcastFlag ? "b" : "a");
        final String hostTap = "vpn" + suffix + "h";
        final String guestTap = "vpn" + suffix + "g";
        final Counters counters = Counters.inMemory(1024);
        final Bridge bridge = Bridge.create("udhcpc", counters);
        final ByteArrayOutputStream logged = new ByteArrayOutputStream();
        final ErrorLog log = ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8));
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final Path dir = Files.createTempDirectory("vioplane-udhcpc");
        final Path leaseLog = dir.resolve("lease.log");
        final Path script = writeScript(dir, leaseLog);
        final NatConfig config = NatConfig.builder().dnsServer(Ipv4Address.parse(DNS)).hostOffloads(offloads)
                .nat(hostTap, Ipv4Address.parse("10.0.3.2"), 24, Ipv4Address.parse("10.0.3.1")).build();
        try (Netns host = Netns.create("nath");
             Netns guest = Netns.create("natg")) {
            final DataPlane dataPlane = new DataPlane("nat-e2e", false, errors::add);
            NatGateway gateway = null;
            TapBridgePort guestPort = null;
            try {
                gateway = NatGateway.open("udhcpc", config, bridge, counters, dataPlane, log);
                guestPort = new TapBridgePort(guestTap, false, bridge, 1500, counters, dataPlane, log);
                if (offloads != 0) {
                    guestPort.setOffloads(offloads);
                }
                host.adopt(hostTap);
                guest.adopt(guestTap);
                bringUp(host, hostTap);
                bringUp(guest, guestTap);
                host.exec("ip", "addr", "add", "10.0.3.1/24", "dev", hostTap);
                dataPlane.add(gateway);
                dataPlane.add(guestPort);

                final BackgroundCommand udhcpc = new BackgroundCommand(guest.commandLine(udhcpcCommand(guestTap,
                        script, broadcastFlag).toArray(String[]::new)));
                try (udhcpc) {
                    assertEquals(0, udhcpc.waitFor(30), "udhcpc got a lease: " + udhcpc.output());
                }
                final String lease = Files.readString(leaseLog);
                assertTrue(lease.contains("bound ip=10.0.2.15 mask=24 subnet=255.255.255.0 router=10.0.2.2 dns=" + DNS
                        + " serverid=10.0.2.2 lease=86400"), lease);
                assertTrue(guest.exec("ip", "-4", "addr", "show", "dev", guestTap).contains("10.0.2.15/24"));

                final Commands.Result ping = Commands.tryRun(guest.commandLine("ping", "-c", "1", "-W", "5", "10.0.2.2")
                        .toArray(String[]::new));
                assertEquals(0, ping.exitCode(), "the guest kernel pings its gateway: " + ping.output());

                try (BackgroundCommand server = new BackgroundCommand(host.commandLine("busybox", "nc", "-l", "-p",
                        "7000"))) {
                    awaitListening(host, 7000);
                    try (BackgroundCommand client = new BackgroundCommand(guest.commandLine("busybox", "nc",
                            "10.0.3.1", "7000"))) {
                        client.write("through the nat\n");
                        awaitOutput(server, "through the nat");
                        final String sockets = host.exec("ss", "-tnH");
                        assertTrue(sockets.contains("10.0.3.2") && !sockets.contains("10.0.2.15"),
                                "the host side sees the NAT's address: " + sockets);
                    }
                }

                try (BackgroundCommand iperfServer = new BackgroundCommand(host.commandLine("iperf3", "-s", "-1", "-p",
                        "5201"))) {
                    awaitListening(host, 5201);
                    final Commands.Result iperf = Commands.tryRun(guest.commandLine("iperf3", "-c", "10.0.3.1", "-p",
                            "5201", "-t", "1").toArray(String[]::new));
                    assertEquals(0, iperf.exitCode(),
                            "iperf3 through the NAT: " + iperf.output() + iperfServer.output());
                }
                final NatCounters natCounters = gateway.counters();
                assertEquals(0, natCounters.drops(NatDrop.L4_BAD_CHECKSUM), NatNetnsTest.describe(natCounters));
                assertEquals(0, natCounters.drops(NatDrop.BAD_OFFLOAD), NatNetnsTest.describe(natCounters));
                assertEquals(0, natCounters.drops(NatDrop.SPOOFED_SOURCE), NatNetnsTest.describe(natCounters));
                final long packets = natCounters.events(NatEvent.GUEST_TO_HOST_PACKETS);
                assertTrue(packets > 100, NatNetnsTest.describe(natCounters));
                final long averageBytes = natCounters.events(NatEvent.GUEST_TO_HOST_BYTES) / packets;
                System.out.println("udhcpc e2e, offloads 0x" + Integer.toHexString(offloads) + ": "
                        + NatNetnsTest.describe(natCounters) + " average frame " + averageBytes + " bytes");
                if (offloads != 0) {
                    assertTrue(averageBytes > 1514, "GSO frames larger than the MTU crossed the NAT whole: "
                            + averageBytes);
                } else {
                    assertTrue(averageBytes <= 1514, "plain frames: " + averageBytes);
                }
                assertEquals(List.of(), errors, "nothing thrown on the data plane");
            } finally {
                dataPlane.close();
                if (guestPort != null) {
                    guestPort.close();
                }
                if (gateway != null) {
                    gateway.close();
                }
            }
        } finally {
            Files.deleteIfExists(leaseLog);
            Files.deleteIfExists(script);
            Files.deleteIfExists(dir);
        }
    }

    private static void bringUp(final Netns netns, final String tap) {
        netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + tap + ".disable_ipv6=1");
        netns.exec("ip", "link", "set", tap, "up");
    }

    private static List<String> udhcpcCommand(final String tap, final Path script, final boolean broadcastFlag) {
        final List<String> command = new java.util.ArrayList<>(List.of("busybox", "udhcpc", "-i", tap, "-f", "-q", "-n",
                "-t", "5", "-T", "1", "-s", script.toString()));
        if (broadcastFlag) {
            command.add("-B");
        }
        return command;
    }

    private static Path writeScript(final Path dir, final Path leaseLog) throws Exception {
        final String ip = Commands.run("sh", "-c", "command -v ip").trim();
        final Path script = dir.resolve("udhcpc.script");
        Files.writeString(script, """
                #!/bin/sh
                echo "$1 ip=$ip mask=$mask subnet=$subnet router=$router dns=$dns serverid=$serverid lease=$lease" >> %s
                if [ "$1" = bound ]; then
                  %s addr add "$ip/$mask" dev "$interface"
                  %s route add default via "$router" dev "$interface"
                fi
                exit 0
                """.formatted(leaseLog, ip, ip));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private static void awaitListening(final Netns netns, final int port) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!netns.exec("ss", "-ltnH").contains(":" + port + " ")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nothing listens on " + port);
            }
            Thread.sleep(20);
        }
    }

    private static void awaitOutput(final BackgroundCommand command, final String text) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!command.output().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("never printed '" + text + "': " + command.output());
            }
            Thread.sleep(10);
        }
    }
}

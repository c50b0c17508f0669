package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.Qmp;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.virtionet.VirtioNetFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Memory hotplug under a running vhost-user guest (2 queue pairs, so two of QEMU's vhost devices share the
 * connection): while the guest pings the namespace through the daemon's bridge and TAP, a memfd-backed
 * {@code pc-dimm} is added through QMP and onlined as normal memory, where the guest kernel's new socket buffers
 * land (the Normal zone above 4 GiB exists only in the DIMM); TCP then runs both ways, so the daemon reads and
 * writes buffers in the new region. A second DIMM, onlined movable, is removed again (the guest offlines and ejects
 * it), and traffic goes on. With memory slots QEMU adds and removes regions with ADD_MEM_REG/REM_MEM_REG; without,
 * it sends whole tables with SET_MEM_TABLE. No request is refused and the rings never stop.
 */
@Tag("qemu")
@Tag("netns")
class MemoryHotplugGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(120);
    private static final Duration QMP = Duration.ofSeconds(30);
    private static final String BLOCKS = "ls -d /sys/devices/system/memory/memory* | sort";

    @ParameterizedTest(name = "memory slots {0}")
    @ValueSource(strings = {"on", "off"})
    void memoryAddedAndRemovedUnderTrafficIsServed(final String slots, @TempDir final Path directory)
            throws Exception {
        GuestNetwork.requireGuestOnTapPeers();
        final String tapName = "vph" + ProcessHandle.current().pid() % 10000 + slots.charAt(1);
        final Path socket = directory.resolve("vm.sock");
        final Path qmpSocket = directory.resolve("qmp.sock");
        final Path recording = directory.resolve("qemu.rec");
        final long withheld = slots.equals("on") ? 0 : ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS);
        final VhostUserNetDaemon.Config config = new VhostUserNetDaemon.Config(List.of(socket), false, 0600, 2,
                VhostUserNetDaemon.PortKind.BRIDGE, new byte[] {0x52, 0x54, 0x00, 0x58, 0x00, 0x02}, 1500,
                VirtioNetFeature.all(), tapName, true, null, false, -1, null, withheld, recording);
        try (Netns netns = Netns.create("hotplug");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config, System.err);
             QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard()).memoryMiB(256).hotplugMemory(4, 2048)
                     .kernelArguments("memhp_default_state=offline").qmpSocket(qmpSocket).extraArguments(
                             "-chardev", "socket,id=c0,path=" + socket,
                             "-netdev", "vhost-user,id=n0,chardev=c0,queues=2",
                             "-device", "virtio-net-pci,netdev=n0,mq=on,romfile=,vectors=0,mac=52:54:00:58:00:02")
                     .build()) {
            GuestNetwork.addressTapInNamespace(netns, tapName, "10.58.0.1/24");
            guest.start();
            guest.awaitShell(BOOT);
            guest.runSuccessfully("ip link set eth0 up && ip addr add 10.58.0.2/24 dev eth0"
                    + " && ethtool -L eth0 combined 2 && ping -c 2 -W 10 10.58.0.1", COMMAND);
            guest.runSuccessfully("ping -i 0.2 -c 100000 10.58.0.1 > /tmp/ping.log 2>&1 &", COMMAND);
            try (Qmp qmp = Qmp.connect(qmpSocket, QMP)) {
                plug(guest, qmp, "dimm1", "online");
                final String normalBefore = normalZoneFree(guest);
                GuestNetwork.iperfToNamespace(guest, netns, directory, "10.58.0.1", "-P 4 -t 3");
                GuestNetwork.iperfToNamespace(guest, netns, directory, "10.58.0.1", "-P 4 -t 3 -R");
                final String normalAfter = normalZoneFree(guest);
                System.out.println("hotplug (slots " + slots + "): free pages in the DIMM's Normal zone before/after"
                        + " TCP: " + normalBefore + " / " + normalAfter);

                plug(guest, qmp, "dimm2", "online_movable");
                GuestNetwork.iperfToNamespace(guest, netns, directory, "10.58.0.1", "-P 4 -t 2");
                qmp.execute("{\"execute\": \"device_del\", \"arguments\": {\"id\": \"dimm2\"}}");
                qmp.awaitEvent("DEVICE_DELETED", "dimm2", COMMAND);
                qmp.execute("{\"execute\": \"object-del\", \"arguments\": {\"id\": \"mem-dimm2\"}}");
                GuestNetwork.iperfToNamespace(guest, netns, directory, "10.58.0.1", "-P 4 -t 2");
            }
            final ShellResult pinged = guest.runSuccessfully("kill -INT $(pidof ping); sleep 1; tail -3 /tmp/ping.log",
                    COMMAND);
            assertTrue(pinged.output().contains("packets received"), pinged.output());
            assertFalse(pinged.output().contains(" 0 packets received"), "the background ping got answers:\n"
                    + pinged.output());
            assertTrue(daemon.devices().get(0).queueCounters(0).packets() > 0);
        }
        ProtocolRecordings.keep(recording, "qemu-hotplug-slots-" + slots);
        final String recorded = Files.readString(recording);
        assertFalse(recorded.contains("refused"), "the daemon refused a request QEMU sent:\n" + recorded);
        if (slots.equals("on")) {
            assertTrue(recorded.contains("REM_MEM_REG"), "the removed DIMM's region was removed:\n" + recorded);
            assertTrue(recorded.lines().filter(line -> line.contains(" ADD_MEM_REG ")).count() >= 6,
                    "boot memory and two DIMMs, added by each of the two vhost devices");
        } else {
            assertTrue(recorded.lines().filter(line -> line.contains(" SET_MEM_TABLE ")).count() >= 3,
                    "whole tables: at boot, with each DIMM, and without the removed one");
        }
    }

    /** Adds a 256 MiB memfd DIMM through QMP and onlines its new memory blocks in the guest as {@code state}. */
    private static void plug(final QemuGuest guest, final Qmp qmp, final String id, final String state) {
        final String before = guest.runSuccessfully(BLOCKS, COMMAND).output();
        qmp.execute("{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"memory-backend-memfd\","
                + " \"id\": \"mem-" + id + "\", \"size\": 268435456, \"share\": true}}");
        qmp.execute("{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"pc-dimm\", \"id\": \"" + id
                + "\", \"memdev\": \"mem-" + id + "\"}}");
        final ShellResult onlined = guest.run("(for i in $(seq 1 100); do " + BLOCKS + " > /tmp/after;"
                + " [ \"$(wc -l < /tmp/after)\" -gt " + before.strip().lines().count() + " ] && break; sleep 0.2; done;"
                + " echo '" + before.strip().replace("\n", "' '") + "' | tr ' ' '\\n' > /tmp/before;"
                + " n=0; for b in $(cat /tmp/after); do grep -qx \"$b\" /tmp/before && continue;"
                + " echo " + state + " > $b/state || exit 1; n=$((n+1)); done; echo onlined $n)", COMMAND);
        assertEquals(0, onlined.exitStatus(), "the guest onlines " + id + ":\n" + onlined.output());
        assertFalse(onlined.output().contains("onlined 0"), "the guest saw new memory blocks for " + id + ":\n"
                + onlined.output());
    }

    private static String normalZoneFree(final QemuGuest guest) {
        return guest.runSuccessfully("awk '/^Node .* zone/ {z=$4} z==\"Normal\" && $1==\"pages\" && $2==\"free\""
                + " {print $3; exit}' /proc/zoneinfo", COMMAND).output().strip();
    }
}

package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.NetQueueCounters;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Linux guest under QEMU whose virtio-net device has several queue pairs, served by the daemon over vhost-user
 * and bridged onto a TAP in a namespace, with QEMU's memory slots (CONFIGURE_MEM_SLOTS: one ADD_MEM_REG stream per
 * queue pair's vhost device on the one connection) offered or withheld (SET_MEM_TABLE). The guest changes its
 * queue pairs with {@code ethtool -L} several times, pinging and running 32 parallel TCP flows after each change
 * (that no flow lands on a given queue of four has a chance of (3/4)^33);
 * after the last change every receive queue carried frames (the daemon spreads flows over them), and over the run
 * the guest transmitted on several pairs (which transmit queue a flow takes is the guest's choice: its XPS map
 * gives each of its 2 vCPUs some of the queues, so a phase may use only half of them). QEMU's requests are
 * recorded by the daemon; none may have been refused.
 */
@Tag("qemu")
@Tag("netns")
class MultiqueueGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(90);

    @ParameterizedTest(name = "{0} queue pairs, memory slots {1}")
    @CsvSource({"2, on", "2, off", "4, on", "4, off"})
    void aMultiqueueGuestUsesEveryQueuePairAsItChangesThem(final int pairs, final String slots,
                                                           @TempDir final Path directory) throws Exception {
        GuestNetwork.requireGuestOnTapPeers();
        final String tapName = "vpm" + ProcessHandle.current().pid() % 10000 + pairs + slots.charAt(1);
        final Path socket = directory.resolve("vm.sock");
        final Path recording = directory.resolve("qemu.rec");
        final long withheld = slots.equals("on") ? 0 : ProtocolFeature.bit(ProtocolFeature.CONFIGURE_MEM_SLOTS);
        final VhostUserNetDaemon.Config config = new VhostUserNetDaemon.Config(List.of(socket), false, 0600, pairs,
                VhostUserNetDaemon.PortKind.BRIDGE, new byte[] {0x52, 0x54, 0x00, 0x57, 0x00, 0x02}, 1500,
                VirtioNetFeature.all(), tapName, true, null, false, -1, null, withheld, recording);
        try (Netns netns = Netns.create("mq");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config, System.err);
             QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard()).vcpus(2).extraArguments(
                     "-chardev", "socket,id=c0,path=" + socket,
                     "-netdev", "vhost-user,id=n0,chardev=c0,queues=" + pairs,
                     "-device", "virtio-net-pci,netdev=n0,mq=on,romfile=,vectors=0,mac=52:54:00:57:00:02").build()) {
            GuestNetwork.addressTapInNamespace(netns, tapName, "10.57.0.1/24");
            guest.start();
            guest.awaitShell(BOOT);
            guest.runSuccessfully("ip link set eth0 up && ip addr add 10.57.0.2/24 dev eth0", COMMAND);
            final String channels = guest.runSuccessfully("ethtool -l eth0", COMMAND).output();
            assertTrue(channels.matches("(?s).*Pre-set maximums:.*Combined:\\s+" + pairs + "\\b.*"),
                    "the guest's driver sees " + pairs + " queue pairs:\n" + channels);
            final VirtioNetDevice device = daemon.devices().get(0);
            final int[] sequence = pairs == 2 ? new int[] {2, 1, 2, 1, 2} : new int[] {4, 1, 3, 2, 4};
            final long[][] start = snapshot(device, pairs);
            long[][] before = null;
            for (final int combined : sequence) {
                guest.runSuccessfully("ethtool -L eth0 combined " + combined, COMMAND);
                before = snapshot(device, pairs);
                final ShellResult ping = guest.run("ping -c 3 -W 10 10.57.0.1", COMMAND);
                assertEquals(0, ping.exitStatus(), "with " + combined + " queue pairs the guest pings the namespace:\n"
                        + ping.output() + "\n--- daemon recording tail ---\n" + tail(recording));
                GuestNetwork.iperfToNamespace(guest, netns, directory, "10.57.0.1", "-P 32 -t 2");
            }
            final long[][] after = snapshot(device, pairs);
            int transmitting = 0;
            for (int pair = 0; pair < pairs; pair++) {
                assertTrue(after[0][pair] > before[0][pair], "receive queue of pair " + pair + " carried frames: "
                        + describe(before, after));
                transmitting += after[1][pair] > start[1][pair] ? 1 : 0;
            }
            assertTrue(transmitting >= 2, "over the whole run the guest transmitted on several queue pairs: "
                    + describe(start, after));
            System.out.println(pairs + " queue pairs, memory slots " + slots + ", frames per queue in the last phase: "
                    + describe(before, after));
        }
        ProtocolRecordings.keep(recording, "qemu-multiqueue-" + pairs + "-pairs-slots-" + slots);
        final String recorded = Files.readString(recording);
        assertFalse(recorded.contains("refused"), "the daemon refused a request QEMU sent:\n" + recorded);
        assertEquals(slots.equals("on"), recorded.contains("ADD_MEM_REG"), "QEMU used memory slots only when offered");
        if (slots.equals("on")) {
            final long adds = recorded.lines().filter(line -> line.contains(" ADD_MEM_REG ")).count();
            assertTrue(adds >= pairs, "each queue pair's vhost device added the guest's memory (" + adds + " adds)");
        }
    }

    /** @return {rx packets per pair, tx packets per pair} */
    private static long[][] snapshot(final VirtioNetDevice device, final int pairs) {
        final long[][] packets = new long[2][pairs];
        for (int pair = 0; pair < pairs; pair++) {
            packets[0][pair] = packets(device.queueCounters(2 * pair));
            packets[1][pair] = packets(device.queueCounters(2 * pair + 1));
        }
        return packets;
    }

    private static long packets(final NetQueueCounters counters) {
        return counters == null ? 0 : counters.packets();
    }

    private static String describe(final long[][] before, final long[][] after) {
        final StringBuilder text = new StringBuilder();
        for (int pair = 0; pair < before[0].length; pair++) {
            text.append(String.format(" pair %d rx %d tx %d;", pair, after[0][pair] - before[0][pair],
                    after[1][pair] - before[1][pair]));
        }
        return text.toString();
    }

    private static String tail(final Path recording) {
        try {
            final List<String> lines = Files.readAllLines(recording);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (java.io.IOException e) {
            return "(no recording: " + e.getMessage() + ")";
        }
    }
}

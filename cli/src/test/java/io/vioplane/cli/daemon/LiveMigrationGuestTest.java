package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.Qmp;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Live migration of a QEMU guest between two QEMU processes on this machine, both served by one daemon (two
 * sockets on one bridge, with a TAP in a namespace), while a TCP stream from the namespace writes a random file
 * into the guest: the source back-end logs every page it writes (LOG_ALL, SET_LOG_BASE, used rings and received
 * buffers) so that QEMU copies them again; after the switch the file the guest received has the checksum of the one
 * sent, the destination carries the guest's traffic, and the guest was announced on the destination's port.
 */
@Tag("qemu")
@Tag("netns")
class LiveMigrationGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(120);
    private static final String MAC = "52:54:00:5a:00:02";

    @Test
    void aGuestMigratedUnderAStreamReceivesItWholeAndKeepsItsNetwork(@TempDir final Path directory) throws Exception {
        Requirements.requireTapAndNetns();
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        final String tapName = "vpv" + ProcessHandle.current().pid() % 10000;
        final Path sourceSocket = directory.resolve("source.sock");
        final Path destinationSocket = directory.resolve("destination.sock");
        final Path recording = directory.resolve("qemu.rec");
        final Path migration = directory.resolve("migration.sock");
        final Path blob = directory.resolve("blob");
        Commands.run("dd", "if=/dev/urandom", "of=" + blob, "bs=64k", "count=160", "status=none");
        final String sentChecksum = Commands.run("md5sum", blob.toString()).split(" ")[0];
        final long features = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);
        final VhostUserNetDaemon.Config config = new VhostUserNetDaemon.Config(List.of(sourceSocket,
                destinationSocket), false, 0600, 1, VhostUserNetDaemon.PortKind.BRIDGE,
                new byte[] {0x52, 0x54, 0x00, 0x5a, 0x00, 0x02}, 1500, features, tapName, false, null, false, -1, null,
                0, recording);
        try (Netns netns = Netns.create("migrate");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config, System.err);
             QemuGuest source = guest(sourceSocket, directory.resolve("source-qmp.sock"), null);
             QemuGuest destination = guest(destinationSocket, directory.resolve("destination-qmp.sock"), migration)) {
            GuestNetwork.addressTapInNamespace(netns, tapName, "10.60.0.1/24");
            source.start();
            source.awaitShell(BOOT);
            source.runSuccessfully("ip link set eth0 up && ip addr add 10.60.0.2/24 dev eth0"
                    + " && ping -c 2 -W 10 10.60.0.1", COMMAND);
            source.runSuccessfully("nc -l -p 5000 > /tmp/blob 2>/tmp/nc.log &", COMMAND);
            destination.start();
            final Process stream = new ProcessBuilder(netns.commandLine("bash", "-c", "sleep 1; for i in $(seq 0 159);"
                    + " do dd if=" + blob + " bs=64k skip=$i count=1 status=none; sleep 0.03; done"
                    + " > /dev/tcp/10.60.0.2/5000")).redirectErrorStream(true)
                    .redirectOutput(directory.resolve("stream.log").toFile()).start();
            try (Qmp sourceQmp = Qmp.connect(directory.resolve("source-qmp.sock"), COMMAND)) {
                Thread.sleep(2_000);
                sourceQmp.execute("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"unix:" + migration + "\"}}");
                awaitMigration(sourceQmp);
            }
            assertTrue(stream.waitFor(60, TimeUnit.SECONDS), () -> "the stream into the guest ended; destination QEMU "
                    + (destination.isAlive() ? "running" : "exited") + ", its console:\n"
                    + destination.consoleTail(4000) + "\nsource QEMU's console:\n" + source.consoleTail(2000));
            assertEquals(0, stream.exitValue(), "the stream reached the guest: " + Files.readString(
                    directory.resolve("stream.log")));
            final ShellResult received = destination.run("for i in $(seq 1 100); do pidof nc >/dev/null || break;"
                    + " sleep 0.2; done; md5sum /tmp/blob", COMMAND);
            assertEquals(0, received.exitStatus(), received.output());
            assertTrue(received.output().contains(sentChecksum), "the file the guest received during migration is"
                    + " the one sent (" + sentChecksum + "):\n" + received.output());
            final ShellResult ping = destination.run("ping -c 5 -W 10 10.60.0.1", COMMAND);
            assertEquals(0, ping.exitStatus(), "the migrated guest reaches the namespace:\n" + ping.output());
            final String fromNamespace = netns.exec("ping", "-c", "3", "-W", "5", "10.60.0.2");
            assertTrue(fromNamespace.contains("3 received"), fromNamespace);
            assertTrue(daemon.bridge().counters(1).inPackets() > 0, "the destination's port carries the guest");
        }
        ProtocolRecordings.keep(recording, "qemu-live-migration");
        final String recorded = Files.readString(recording);
        assertFalse(recorded.contains("refused"), "the daemon refused a request QEMU sent:\n" + recorded);
        assertTrue(recorded.contains("SET_LOG_BASE"), "the source was given a dirty log");
    }

    private static QemuGuest guest(final Path socket, final Path qmpSocket, final Path incoming) {
        final QemuGuest.Builder builder = QemuGuest.builder(LinuxGuestImage.standard()).qmpSocket(qmpSocket)
                .extraArguments("-chardev", "socket,id=c0,path=" + socket, "-netdev", "vhost-user,id=n0,chardev=c0",
                        "-device", "virtio-net-pci,netdev=n0,romfile=,vectors=0,mac=" + MAC);
        if (incoming != null) {
            builder.extraArguments("-incoming", "unix:" + incoming);
        }
        return builder.build();
    }

    private static void awaitMigration(final Qmp qmp) throws InterruptedException {
        final long deadline = System.nanoTime() + COMMAND.toNanos();
        String status = "";
        while (System.nanoTime() < deadline) {
            status = qmp.execute("{\"execute\": \"query-migrate\"}");
            if (status.contains("\"status\": \"completed\"")) {
                System.out.println("migration: " + status);
                return;
            }
            if (status.contains("\"status\": \"failed\"") || status.contains("\"status\": \"cancelled\"")) {
                fail("the migration failed: " + status);
            }
            Thread.sleep(200);
        }
        fail("the migration did not complete: " + status);
    }
}

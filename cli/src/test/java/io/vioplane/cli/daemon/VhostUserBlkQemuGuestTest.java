package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.virtioblk.BlkRefusal;
import io.vioplane.virtioblk.engine.BlkQueueCounters;
import io.vioplane.virtioblk.engine.VirtioBlkDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Linux guest under QEMU (TCG, 2 vCPUs) whose own virtio_blk driver uses two disks served by the daemon over
 * vhost-user: a writable 64 MiB image with 2 request queues and O_DIRECT on the host, and a read-only image. One
 * boot covers: capacity, serial and queue count as the guest sees them; the image grown on the host reaching the
 * guest as a configuration change (BACKEND_CONFIG_CHANGE_MSG, QEMU's config interrupt); a pattern written and read back with
 * O_DIRECT, equal on the host image too; both queues carrying requests; blkdiscard freeing the host file's
 * blocks; mkfs.ext4, mount, files written, sync, umount, and {@code e2fsck -n} clean on the host image; the
 * read-only disk refusing writes and reading back the host's bytes. The guest's kernel and QEMU are the peers.
 */
@Tag("qemu")
class VhostUserBlkQemuGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(180);
    private static final long DISK_BYTES = 64L << 20;
    private static final long READ_ONLY_BYTES = 8L << 20;
    private static final long GROWN_BYTES = 80L << 20;

    private static LinuxGuestImage imageWithFilesystemTools() {
        return LinuxGuestImage.builder().modules("virtio_pci", "virtio_blk", "crc32c_generic", "ext4")
                .program(hostProgram("mkfs.ext4")).build();
    }

    private static Path hostProgram(final String name) {
        for (String directory : new String[] {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
            final Path candidate = Path.of(directory, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(name + " not found");
    }

    private static void sparseFile(final Path path, final long bytes) throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(bytes);
        }
    }

    private static String md5(final byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    private static long allocatedBlocks(final Path file) throws Exception {
        final Process stat = new ProcessBuilder("stat", "-c", "%b", file.toString()).start();
        final String out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        stat.waitFor();
        return Long.parseLong(out);
    }

    private static String run(final QemuGuest guest, final String command) {
        final ShellResult result = guest.run(command, COMMAND);
        assertEquals(0, result.exitStatus(), "guest: " + command + "\n" + result.output() + "\n--- console ---\n"
                + guest.consoleTail(3000));
        return result.output().strip();
    }

    @Test
    void linuxGuestUsesTheDisksThroughItsOwnVirtioBlkDriver(@TempDir final Path directory) throws Exception {
        Requirements.requireRoot();
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        Requirements.requireCommand("mkfs.ext4", "e2fsprogs (mkfs.ext4, e2fsck)");
        final LinuxGuestImage image = imageWithFilesystemTools();
        final Path disk = directory.resolve("disk.img");
        final Path readOnlyDisk = directory.resolve("ro.img");
        sparseFile(disk, DISK_BYTES);
        final byte[] readOnlyContent = new byte[(int) READ_ONLY_BYTES];
        new Random(12).nextBytes(readOnlyContent);
        Files.write(readOnlyDisk, readOnlyContent);
        final Path socket = directory.resolve("blk.sock");
        final Path readOnlySocket = directory.resolve("ro.sock");
        final VhostUserBlkDaemon.Config config = new VhostUserBlkDaemon.Config(socket, false, 0600, disk, false, 2,
                true, true, "vioplane-test-01", false, -1);
        final VhostUserBlkDaemon.Config readOnlyConfig = new VhostUserBlkDaemon.Config(readOnlySocket, false, 0600,
                readOnlyDisk, true, 1, false, false, "vioplane-ro", false, -1);
        try (VhostUserBlkDaemon daemon = VhostUserBlkDaemon.start(config, System.err);
             VhostUserBlkDaemon readOnlyDaemon = VhostUserBlkDaemon.start(readOnlyConfig, System.err);
             QemuGuest guest = QemuGuest.builder(image).memoryMiB(512).extraArguments("-smp", "2",
                     "-chardev", "socket,id=c0,path=" + socket,
                     "-device", "vhost-user-blk-pci,chardev=c0,num-queues=2,vectors=0",
                     "-chardev", "socket,id=c1,path=" + readOnlySocket,
                     "-device", "vhost-user-blk-pci,chardev=c1,num-queues=1,vectors=0").build()) {
            guest.start();
            guest.awaitShell(BOOT);
            assertEquals("virtio_blk", run(guest, "basename $(readlink /sys/block/vda/device/driver)"),
                    "the guest's own virtio_blk driver drives the disk");
            assertEquals(Long.toString(DISK_BYTES / 512), run(guest, "cat /sys/block/vda/size"));
            assertEquals("vioplane-test-01", run(guest, "cat /sys/block/vda/serial"));
            assertEquals("2", run(guest, "ls /sys/block/vda/mq | wc -l"), "two request queues");
            assertEquals("2", run(guest, "grep -c ^processor /proc/cpuinfo"), "two vCPUs");

            try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
                file.setLength(GROWN_BYTES);
            }
            daemon.checkCapacity();
            assertEquals(Long.toString(GROWN_BYTES / 512), run(guest, "for i in $(seq 1 120); do [ \"$(cat"
                    + " /sys/block/vda/size)\" = " + GROWN_BYTES / 512 + " ] && break; sleep 1; done;"
                    + " cat /sys/block/vda/size"), "the image grown on the host reaches the guest as a config change");

            run(guest, "dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null");
            run(guest, "dd if=/tmp/pattern of=/dev/vda bs=64k oflag=direct 2>/dev/null");
            run(guest, "dd if=/dev/vda of=/tmp/back bs=64k count=64 iflag=direct 2>/dev/null");
            final String written = run(guest, "md5sum < /tmp/pattern").split("\\s+")[0];
            assertEquals(written, run(guest, "md5sum < /tmp/back").split("\\s+")[0], "read back with O_DIRECT");
            final byte[] hostHead = new byte[4 << 20];
            try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "r")) {
                file.readFully(hostHead);
            }
            assertEquals(written, md5(hostHead), "the pattern is on the host image");

            run(guest, "for cpu in 1 2; do taskset $cpu dd if=/dev/vda of=/dev/null bs=4k count=512 skip=$((cpu * 2048))"
                    + " iflag=direct 2>/dev/null & done; wait");
            final VirtioBlkDevice device = daemon.device();
            final BlkQueueCounters q0 = device.queueCounters(0);
            final BlkQueueCounters q1 = device.queueCounters(1);
            assertTrue(q0 != null && q1 != null && q0.reads() > 0 && q1.reads() > 0,
                    "both request queues carried reads: q0=" + (q0 == null ? 0 : q0.reads()) + " q1="
                            + (q1 == null ? 0 : q1.reads()));

            final long blocksBeforeDiscard = allocatedBlocks(disk);
            run(guest, "blkdiscard -o 0 -l 4194304 /dev/vda");
            final long blocksAfterDiscard = allocatedBlocks(disk);
            assertTrue(blocksAfterDiscard + 4096 <= blocksBeforeDiscard, "blkdiscard freed the host file's blocks: "
                    + blocksBeforeDiscard + " -> " + blocksAfterDiscard + " (512-byte blocks)");

            run(guest, "mkfs.ext4 -q -F /dev/vda");
            run(guest, "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt");
            run(guest, "cp /tmp/pattern /mnt/pattern && mkdir /mnt/dir && for i in $(seq 1 50); do"
                    + " echo record-$i > /mnt/dir/file-$i; done && sync");
            run(guest, "umount /mnt");
            final Process fsck = new ProcessBuilder(hostProgram("e2fsck").toString(), "-fn",
                    disk.toString()).redirectErrorStream(true).start();
            final String fsckOutput = new String(fsck.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, fsck.waitFor(), "e2fsck -n on the host image is clean:\n" + fsckOutput);
            run(guest, "mount -t ext4 -o ro /dev/vda /mnt");
            assertEquals(written, run(guest, "md5sum < /mnt/pattern").split("\\s+")[0], "the file reads back");
            assertEquals("record-50", run(guest, "cat /mnt/dir/file-50"));
            run(guest, "umount /mnt");
            assertTrue(q0.flushes() + q1.flushes() > 0, "sync reached the daemon as FLUSH");

            assertEquals("1", run(guest, "cat /sys/block/vdb/ro"), "the guest sees the read-only disk as such");
            final ShellResult refused = guest.run("dd if=/dev/zero of=/dev/vdb bs=4k count=1 oflag=direct", COMMAND);
            assertNotEquals(0, refused.exitStatus(), "writing the read-only disk fails: " + refused.output());
            assertEquals(md5(readOnlyContent), run(guest, "md5sum < /dev/vdb").split("\\s+")[0]);
            assertEquals(md5(readOnlyContent), md5(Files.readAllBytes(readOnlyDisk)), "the read-only image is intact");
            final BlkQueueCounters roCounters = readOnlyDaemon.device().queueCounters(0);
            assertEquals(0, roCounters.writes(), "no write reached the read-only image");
            assertEquals(0, q0.refused(BlkRefusal.BEYOND_CAPACITY) + q1.refused(BlkRefusal.BEYOND_CAPACITY));
        }
    }
}

package io.vioplane.cli.daemon;

import io.vioplane.cli.VioplaneProcess;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.PositionedIo;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash consistency of {@code vioplane vhost-user-blk} with a Linux guest under QEMU: the guest writes numbered
 * 4 KiB records with O_DIRECT and fsync (each one acknowledged only after its FLUSH completed); the daemon is
 * killed with SIGKILL mid-run and started again on the same socket; QEMU ({@code reconnect=1}) hands the new
 * daemon the inflight buffer, which resubmits what the dead one had taken. The guest sees no I/O error and every
 * acknowledged record is on the host image.
 */
@Tag("qemu")
class VhostUserBlkCrashTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(120);
    private static final int RECORDS = 400;
    private static final int KILL_AFTER_RECORDS = 60;
    private static final Duration RECORDS_TIMEOUT = Duration.ofSeconds(400);

    private static VioplaneProcess daemon(final Path socket, final Path image) throws Exception {
        return VioplaneProcess.start(List.of(), Map.of(), "vhost-user-blk", "--socket-path", socket.toString(), "--image",
                image.toString(), "--writeback");
    }

    private static boolean alive(final VioplaneProcess daemon) {
        return ProcessHandle.of(daemon.pid()).map(ProcessHandle::isAlive).orElse(false);
    }

    private static boolean recordOnImage(final Path image, final int record) throws Exception {
        final String expected = String.format("record-%08d\n", record);
        final byte[] found = new byte[expected.length()];
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "r")) {
            file.seek((long) record * 4096);
            file.readFully(found);
        }
        return expected.equals(new String(found, StandardCharsets.US_ASCII));
    }

    @Test
    void killedDaemonLosesNoAcknowledgedWriteAndTheGuestSeesNoError(@TempDir final Path directory) throws Exception {
        killMidRunAndRestart(directory, false);
    }

    /** The same with the image on tmpfs, which the daemon serves inline (no io_uring worker). */
    @Test
    void killedDaemonServingATmpfsImageInlineLosesNoAcknowledgedWrite() throws Exception {
        final Path shm = Path.of("/dev/shm");
        Requirements.require(Files.isDirectory(shm) && Files.getFileStore(shm).type().equals("tmpfs"),
                "/dev/shm mounted as tmpfs");
        final Path directory = Files.createTempDirectory(shm, "vioplane-blk-crash-");
        try {
            killMidRunAndRestart(directory, true);
        } finally {
            try (Stream<Path> files = Files.walk(directory)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    private void killMidRunAndRestart(final Path directory, final boolean inline) throws Exception {
        Requirements.requireRoot();
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        final Path image = directory.resolve("disk.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(16L << 20);
        }
        if (inline) {
            final int fd = FileIo.open(image.toString(), FileIo.O_RDONLY);
            try {
                assertFalse(PositionedIo.supportsNowait(fd), "tmpfs takes no non-blocking I/O, so the daemon's"
                        + " automatic choice serves the image inline");
            } finally {
                FileIo.closeQuietly(fd);
            }
        }
        final Path socket = directory.resolve("blk.sock");
        final VioplaneProcess first = daemon(socket, image);
        final AtomicReference<VioplaneProcess> second = new AtomicReference<>();
        final AtomicReference<Throwable> restartFailure = new AtomicReference<>();
        final AtomicBoolean killedMidRun = new AtomicBoolean();
        final Thread killer = new Thread(() -> {
            try {
                final long deadline = System.nanoTime() + Duration.ofSeconds(400).toNanos();
                while (!recordOnImage(image, KILL_AFTER_RECORDS) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                killedMidRun.set(!recordOnImage(image, RECORDS - 1));
                first.kill();
                Thread.sleep(1500);
                second.set(daemon(socket, image));
            } catch (Throwable e) {
                restartFailure.set(e);
            }
        }, "blk-daemon-killer");
        try (QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard()).extraArguments(
                "-chardev", "socket,id=c0,path=" + socket + ",reconnect=1",
                "-device", "vhost-user-blk-pci,chardev=c0,num-queues=1,vectors=0").build()) {
            guest.start();
            guest.awaitShell(BOOT);
            killer.start();
            final ShellResult run = guest.run("i=0; while [ $i -lt " + RECORDS + " ]; do printf 'record-%08d\\n' $i"
                    + " | dd of=/dev/vda bs=4096 seek=$i conv=sync,fsync oflag=direct 2>/dev/null"
                    + " && echo ack-$i || echo failed-$i; i=$((i + 1)); done; echo io-errors=$(dmesg | grep -c 'I/O error')",
                    RECORDS_TIMEOUT);
            killer.join(Duration.ofSeconds(60).toMillis());
            assertEquals(null, restartFailure.get(), "the daemon was killed and started again");
            assertFalse(alive(first), "the first daemon was killed");
            final String output = run.output();
            assertFalse(output.contains("failed-"), "no write failed in the guest:\n" + output);
            assertTrue(output.contains("io-errors=0"), "no I/O error in the guest's kernel log:\n" + output);
            for (int i = 0; i < RECORDS; i++) {
                assertTrue(output.contains("ack-" + i + "\n"), "record " + i + " was acknowledged:\n" + output);
                assertTrue(recordOnImage(image, i), "acknowledged record " + i + " is on the image");
            }
            assertTrue(killedMidRun.get(), "the daemon was killed before the last record was written");
        } finally {
            killer.join(Duration.ofSeconds(60).toMillis());
            final VioplaneProcess restarted = second.get();
            if (restarted != null) {
                restarted.close();
                assertFalse(alive(restarted), "SIGTERM stops the daemon");
                assertFalse(Files.exists(socket), "a clean stop removes the socket");
            }
            if (alive(first)) {
                first.close();
            }
        }
    }
}

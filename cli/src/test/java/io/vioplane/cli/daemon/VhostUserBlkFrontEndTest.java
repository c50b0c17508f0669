package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Requirements;
import io.vioplane.vhostuser.frontend.BlkFrontEnd;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.virtioblk.BlkRequestType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The project's in-process vhost-user-blk front-end ({@link BlkFrontEnd}) against two back-ends: vioplane's daemon
 * and qemu-storage-daemon (QEMU's own vhost-user-blk export, the peer nobody here wrote). 32 writes of 4 KiB in
 * flight at once, a FLUSH, 32 reads: every status OK, the reads equal the writes, the bytes on the host image.
 */
class VhostUserBlkFrontEndTest {
    private static final int SLOTS = 32;
    private static final int BYTES = 4096;

    private static void sparseFile(final Path path) throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(16L << 20);
        }
    }

    @Test
    void drivesVioplanesDaemon(@TempDir final Path directory) throws Exception {
        final Path image = directory.resolve("disk.img");
        sparseFile(image);
        final Path socket = directory.resolve("blk.sock");
        try (VhostUserBlkDaemon daemon = VhostUserBlkDaemon.start(new VhostUserBlkDaemon.Config(socket, false, 0600,
                image, false, 1, false, true, "fe-test", false, -1), System.err)) {
            writeReadBack(socket, image);
            assertEquals(SLOTS, daemon.device().queueCounters(0).writes());
        }
    }

    @Test
    void aGrownImageReachesTheFrontEndAsAConfigChangeWithTheNewCapacity(@TempDir final Path directory)
            throws Exception {
        final Path image = directory.resolve("disk.img");
        sparseFile(image);
        final long before = (16L << 20) / 512;
        final Path socket = directory.resolve("blk.sock");
        try (VhostUserBlkDaemon daemon = VhostUserBlkDaemon.start(new VhostUserBlkDaemon.Config(socket, false, 0600,
                image, false, 1, false, true, "fe-resize", false, -1), System.err);
             BlkFrontEnd frontEnd = new BlkFrontEnd(socket, 128, true)) {
            assertEquals(before, frontEnd.capacitySectors());
            assertTrue(frontEnd.place(0, BlkRequestType.OUT, before, BYTES));
            frontEnd.kick();
            awaitStatus(frontEnd, BlkRequestType.S_IOERR);

            try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
                file.setLength(32L << 20);
            }
            daemon.checkCapacity();
            assertEquals(VhostUserRequest.BACKEND_CONFIG_CHANGE_MSG, frontEnd.awaitBackendRequest(20_000),
                    "the daemon tells the front-end on the back-end channel");
            assertEquals(2 * before, frontEnd.capacitySectors(), "GET_CONFIG then reads the new capacity");
            assertTrue(frontEnd.place(0, BlkRequestType.OUT, before, BYTES));
            frontEnd.kick();
            awaitStatus(frontEnd, BlkRequestType.S_OK);
            assertEquals(1, daemon.device().queueCounters(0).writes(), "a write past the old end is served");
        }
    }

    private static void awaitStatus(final BlkFrontEnd frontEnd, final byte status) {
        final int[] slots = new int[1];
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (frontEnd.reap(slots) == 0) {
            assertTrue(System.nanoTime() < deadline, "the request completed");
            Thread.onSpinWait();
        }
        assertEquals(status, frontEnd.status(slots[0]));
    }

    @Test
    void drivesQemuStorageDaemon(@TempDir final Path directory) throws Exception {
        Requirements.requireCommand("qemu-storage-daemon", "qemu-system-common (qemu-storage-daemon)");
        final Path image = directory.resolve("disk.img");
        sparseFile(image);
        final Path socket = directory.resolve("qsd.sock");
        final Process qsd = new ProcessBuilder("qemu-storage-daemon",
                "--blockdev", "driver=file,node-name=disk,filename=" + image + ",aio=io_uring,cache.direct=on",
                "--export", "type=vhost-user-blk,id=e0,node-name=disk,addr.type=unix,addr.path=" + socket
                        + ",writable=on").inheritIO().start();
        try {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(socket)) {
                assertTrue(qsd.isAlive() && System.nanoTime() < deadline, "qemu-storage-daemon listens");
                Thread.sleep(50);
            }
            writeReadBack(socket, image);
        } finally {
            qsd.destroy();
            if (!qsd.waitFor(10, TimeUnit.SECONDS)) {
                qsd.destroyForcibly();
            }
        }
    }

    private static void writeReadBack(final Path socket, final Path image) throws Exception {
        try (BlkFrontEnd frontEnd = new BlkFrontEnd(socket, 128)) {
            for (int slot = 0; slot < SLOTS; slot++) {
                final MemorySegment buffer = frontEnd.buffer(slot);
                for (int i = 0; i < BYTES; i += 8) {
                    buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, i, ((long) slot << 32) | i);
                }
                assertTrue(frontEnd.place(slot, BlkRequestType.OUT, 8L * slot, BYTES));
            }
            frontEnd.kick();
            awaitAll(frontEnd, SLOTS);
            assertTrue(frontEnd.place(0, BlkRequestType.FLUSH, 0, 0));
            frontEnd.kick();
            awaitAll(frontEnd, 1);
            for (int slot = 0; slot < SLOTS; slot++) {
                frontEnd.buffer(slot).asSlice(0, BYTES).fill((byte) 0);
                assertTrue(frontEnd.place(slot, BlkRequestType.IN, 8L * slot, BYTES));
            }
            frontEnd.kick();
            awaitAll(frontEnd, SLOTS);
            final byte[] disk = Files.readAllBytes(image);
            for (int slot = 0; slot < SLOTS; slot++) {
                for (int i = 0; i < BYTES; i += 8) {
                    final long expected = ((long) slot << 32) | i;
                    assertEquals(expected, frontEnd.buffer(slot).get(ValueLayout.JAVA_LONG_UNALIGNED, i),
                            "slot " + slot + " read back at " + i);
                    assertEquals(expected, MemorySegment.ofArray(disk).get(ValueLayout.JAVA_LONG_UNALIGNED,
                            (long) slot * BYTES + i), "slot " + slot + " on the image at " + i);
                }
            }
        }
    }

    private static void awaitAll(final BlkFrontEnd frontEnd, final int count) throws InterruptedException {
        final int[] slots = new int[64];
        int done = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (done < count) {
            final int n = frontEnd.reap(slots);
            for (int i = 0; i < n; i++) {
                assertEquals(BlkRequestType.S_OK, frontEnd.status(slots[i]), "status of slot " + slots[i]);
            }
            done += n;
            assertEquals(null, frontEnd.deviceFault());
            assertTrue(System.nanoTime() < deadline, "only " + done + " of " + count + " requests completed");
            if (n == 0) {
                Thread.onSpinWait();
            }
        }
    }
}

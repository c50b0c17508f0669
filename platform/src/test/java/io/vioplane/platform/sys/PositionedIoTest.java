package io.vioplane.platform.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PositionedIoTest {
    private static final int FALLOC_KEEP_SIZE = 0x01;
    private static final int FALLOC_PUNCH_HOLE = 0x02;

    @TempDir
    Path dir;

    private Path image(final long bytes) throws Exception {
        final Path image = dir.resolve("image");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(bytes);
        }
        return image;
    }

    @Test
    void scatteredWriteLandsAtItsOffsetAndReadsBackGathered() throws Exception {
        final Path image = image(1 << 16);
        final int fd = FileIo.open(image.toString(), FileIo.O_RDWR);
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment a = arena.allocate(512);
            final MemorySegment b = arena.allocate(1024);
            a.fill((byte) 0x11);
            b.fill((byte) 0x22);
            final IoVecArray iov = new IoVecArray(arena, 2);
            iov.set(0, a).set(1, b);
            assertEquals(1536, PositionedIo.pwritev(fd, iov, 2, 4096, PositionedIo.RWF_DSYNC));
            final byte[] onDisk = Files.readAllBytes(image);
            assertEquals(0x11, onDisk[4096]);
            assertEquals(0x22, onDisk[4096 + 512]);
            assertEquals(0x22, onDisk[4096 + 1535]);
            assertEquals(0, onDisk[4096 + 1536]);
            final MemorySegment back = arena.allocate(1536);
            iov.set(0, back);
            assertEquals(1536, PositionedIo.preadv(fd, iov, 1, 4096, 0));
            assertEquals(0x11, back.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0x22, back.get(ValueLayout.JAVA_BYTE, 1535));
            assertEquals(0, PositionedIo.fdatasync(fd));
            assertEquals(0, PositionedIo.fallocate(fd, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, 4096, 4096));
            assertEquals(0, Files.readAllBytes(image)[4096], "the punched range reads as zeroes");
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void failuresComeBackAsNegativeErrnoNotExceptions() throws Exception {
        final Path image = image(4096);
        final int fd = FileIo.open(image.toString(), FileIo.O_RDONLY);
        try (Arena arena = Arena.ofConfined()) {
            final IoVecArray iov = new IoVecArray(arena, 1);
            iov.set(0, arena.allocate(512));
            assertEquals(-Errno.EBADF, PositionedIo.pwritev(fd, iov, 1, 0, 0), "written through a read-only fd");
            assertEquals(0, PositionedIo.preadv(fd, iov, 1, 1 << 20, 0), "read past the end: 0 bytes");
            assertEquals(-Errno.EBADF, PositionedIo.fallocate(fd, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, 0, 512));
        } finally {
            FileIo.close(fd);
        }
        try (Arena arena = Arena.ofConfined()) {
            final IoVecArray iov = new IoVecArray(arena, 1);
            iov.set(0, arena.allocate(512));
            assertEquals(-Errno.EBADF, PositionedIo.preadv(-1, iov, 1, 0, 0));
            assertEquals(-Errno.EBADF, PositionedIo.fdatasync(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> PositionedIo.preadv(-1, iov, 2, 0, 0),
                    "more iovecs than the array holds");
        }
    }

    @Test
    void tmpfsFilesTakeNoNonBlockingIo() throws Exception {
        final Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.getFileStore(shm).type().equals("tmpfs"), "/dev/shm is tmpfs");
        final Path image = Files.createTempFile(shm, "positioned-io-", ".img");
        try {
            Files.write(image, new byte[8192]);
            final int fd = FileIo.open(image.toString(), FileIo.O_RDWR);
            try {
                assertFalse(PositionedIo.supportsNowait(fd));
            } finally {
                FileIo.close(fd);
            }
        } finally {
            Files.deleteIfExists(image);
        }
    }

    @Test
    void diskFileSystemsTakeNonBlockingIo() throws Exception {
        assumeTrue(Set.of("ext4", "xfs", "btrfs").contains(Files.getFileStore(dir).type()),
                "the temporary directory is on ext4, xfs or btrfs");
        final int fd = FileIo.open(image(8192).toString(), FileIo.O_RDWR);
        try {
            assertTrue(PositionedIo.supportsNowait(fd));
        } finally {
            FileIo.close(fd);
        }
    }
}

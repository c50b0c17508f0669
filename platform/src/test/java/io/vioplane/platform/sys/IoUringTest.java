package io.vioplane.platform.sys;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** io_uring batches against a memfd: order, results, errors and capacity, all read back from the file. */
class IoUringTest {
    private IoUring ring;
    private int fd = -1;
    private final Arena arena = Arena.ofConfined();

    @BeforeEach
    void open() {
        try {
            ring = IoUring.open(8);
        } catch (SysException e) {
            System.err.println("SKIPPED: io_uring is not available here (" + e.getMessage() + ")");
            assumeTrue(false, "io_uring unavailable: " + e.getMessage());
        }
        fd = MemFd.create("io-uring-test", 0);
        ring.registerFile(fd);
    }

    @AfterEach
    void close() {
        if (ring != null) {
            ring.close();
        }
        if (fd >= 0) {
            FileIo.close(fd);
        }
        arena.close();
    }

    @Test
    void aBatchOfWritesCompletesInOrderWithOneResultEach() {
        final MemorySegment buffers = arena.allocate(8 * 4);
        for (int i = 0; i < 8; i++) {
            buffers.asSlice(i * 4L, 4).fill((byte) ('a' + i));
            ring.prepareWrite(buffers.asSlice(i * 4L, 4), 4, 100 + i);
        }
        assertEquals(8, ring.prepared());
        assertEquals(8, ring.submitAndWait());
        final long[] userData = new long[8];
        final int[] results = new int[8];
        assertEquals(8, ring.reap(userData, results, 8));
        for (int i = 0; i < 8; i++) {
            assertEquals(100 + i, userData[i]);
            assertEquals(4, results[i]);
        }
        assertEquals("aaaabbbbccccddddeeeeffffgggghhhh", fileContent(32));
    }

    @Test
    void gatherWritesJoinTheirPieces() {
        final MemorySegment pieces = arena.allocate(6);
        pieces.setString(0, "xyzuv");
        final IoVecArray iov = new IoVecArray(arena, 2);
        iov.set(0, pieces, 0, 3).set(1, pieces, 3, 2);
        ring.prepareWritev(iov.segment(), 2, 7);
        ring.submitAndWait();
        final long[] userData = new long[1];
        final int[] results = new int[1];
        assertEquals(1, ring.reap(userData, results, 1));
        assertEquals(5, results[0]);
        assertEquals("xyzuv", fileContent(5));
    }

    @Test
    void aFailedOperationReportsItsErrnoAndTheOthersStillComplete() {
        final MemorySegment buffer = arena.allocate(16);
        ring.prepareWrite(buffer, 16, 1);
        ring.prepareRead(buffer, 16, 2);
        ring.submitAndWait();
        final int readOnly = FileIo.open("/proc/self/status", FileIo.O_RDONLY);
        try {
            ring.registerFile(readOnly);
            ring.prepareWrite(buffer, 16, 3);
            ring.submitAndWait();
        } finally {
            FileIo.close(readOnly);
        }
        final long[] userData = new long[4];
        final int[] results = new int[4];
        assertEquals(3, ring.reap(userData, results, 4));
        assertEquals(16, results[0]);
        assertEquals(0, results[1], "reading at the end of the file");
        assertEquals(-Errno.EBADF, results[2], "writing a read-only file fails with EBADF in its completion");
    }

    @Test
    void refusesMoreOperationsThanItsCapacity() {
        final MemorySegment buffer = arena.allocate(1);
        for (int i = 0; i < ring.capacity(); i++) {
            ring.prepareWrite(buffer, 1, i);
        }
        assertThrows(IllegalStateException.class, () -> ring.prepareWrite(buffer, 1, 99));
        ring.submitAndWait();
        assertEquals(ring.capacity(), ring.reap(new long[16], new int[16], 16));
    }

    private String fileContent(final int lengthBytes) {
        final MemorySegment read = arena.allocate(lengthBytes);
        FileIo.lseek(fd, 0, FileIo.SEEK_SET);
        assertEquals(lengthBytes, FileIo.read(fd, read, lengthBytes));
        final byte[] bytes = new byte[lengthBytes];
        MemorySegment.copy(read, JAVA_BYTE, 0, bytes, 0, lengthBytes);
        return new String(bytes);
    }
}

package io.vioplane.platform.sys;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class FileIoTest {
    @Test
    void writesAndReadsBackThroughAFile() {
        final int fd = MemFd.create("fileio", 0);
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocateFrom("hello, kernel", StandardCharsets.US_ASCII);
            assertEquals(out.byteSize(), FileIo.write(fd, out));
            assertEquals(out.byteSize(), FileIo.sizeOf(fd));
            FileIo.lseek(fd, 0, FileIo.SEEK_SET);
            final MemorySegment in = arena.allocate(out.byteSize());
            assertEquals(out.byteSize(), FileIo.read(fd, in));
            assertEquals(-1, in.mismatch(out));
            assertEquals(0, FileIo.read(fd, in), "end of file reads 0");
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void gathersAndScattersWithIoVectors() {
        final int fd = MemFd.create("iov", 0);
        try (Arena arena = Arena.ofConfined()) {
            final IoVecArray iov = new IoVecArray(arena, 3);
            final MemorySegment a = arena.allocate(3);
            final MemorySegment b = arena.allocate(5);
            final MemorySegment c = arena.allocate(2);
            a.fill((byte) 'a');
            b.fill((byte) 'b');
            c.fill((byte) 'c');
            iov.set(0, a).set(1, b).set(2, c);
            assertEquals(10, FileIo.writev(fd, iov, 3));
            FileIo.lseek(fd, 0, FileIo.SEEK_SET);
            final MemorySegment whole = arena.allocate(10);
            assertEquals(10, FileIo.read(fd, whole));
            assertEquals("aaabbbbbcc", new String(whole.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));

            FileIo.lseek(fd, 0, FileIo.SEEK_SET);
            final MemorySegment x = arena.allocate(4);
            final MemorySegment y = arena.allocate(6);
            iov.set(0, x).set(1, y);
            assertEquals(10, FileIo.readv(fd, iov, 2));
            assertEquals('a', (char) x.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals('b', (char) x.get(ValueLayout.JAVA_BYTE, 3));
            assertEquals('c', (char) y.get(ValueLayout.JAVA_BYTE, 5));
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void nonBlockingReadOfAnEmptySocketWouldBlock() {
        final int[] pair = UnixSockets.socketPair();
        try (Arena arena = Arena.ofConfined()) {
            FileIo.setNonBlocking(pair[0], true);
            assertEquals(FileIo.WOULD_BLOCK, FileIo.read(pair[0], arena.allocate(8)));
        } finally {
            FileIo.close(pair[0]);
            FileIo.close(pair[1]);
        }
    }

    @Test
    void failuresCarryErrnoAndTheCall() {
        final SysException missing = assertThrows(SysException.class,
                () -> FileIo.open("/nonexistent/vioplane", FileIo.O_RDONLY));
        assertEquals(Errno.ENOENT, missing.errno());
        assertTrue(missing.call().contains("/nonexistent/vioplane"));

        final SysException badFd = assertThrows(SysException.class, () -> FileIo.close(1_000_000));
        assertEquals(Errno.EBADF, badFd.errno());
        assertTrue(badFd.getMessage().startsWith("close(fd=1000000): EBADF ("), badFd.getMessage());
    }

    @Test
    void rejectsACountLargerThanTheBuffer() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IndexOutOfBoundsException.class, () -> FileIo.read(0, arena.allocate(4), 5));
        }
    }

    @Test
    void ioctlReportsTheRequestNameOnFailure() {
        final int fd = MemFd.create("ioctl", 0);
        try {
            final SysException failure = assertThrows(SysException.class,
                    () -> Ioctl.invoke(fd, 0x400454CAL, MemorySegment.NULL, "TUNSETIFF"));
            assertEquals(Errno.ENOTTY, failure.errno());
            assertTrue(failure.call().contains("TUNSETIFF"));
            assertEquals(-Errno.ENOTTY, Ioctl.tryInvoke(fd, 0x400454CAL, 0L));
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void pinsTheCallingThreadAndRestoresIt() throws Exception {
        final int[] allowed = CpuAffinity.allowedCpus();
        assertTrue(allowed.length >= 1);
        final int[][] seen = new int[1][];
        final Thread pinned = new Thread(() -> {
            CpuAffinity.restrictCurrentThread(allowed[allowed.length - 1]);
            seen[0] = CpuAffinity.allowedCpus();
        });
        pinned.start();
        pinned.join();
        assertArrayEquals(new int[] {allowed[allowed.length - 1]}, seen[0], "the thread runs on one CPU");
        assertArrayEquals(allowed, CpuAffinity.allowedCpus(), "other threads are not affected");
        assertThrows(IllegalArgumentException.class, () -> CpuAffinity.restrictCurrentThread(5000));
    }

    @Test
    void getpidAndPageSizeMatchTheJvm() {
        assertEquals(ProcessHandle.current().pid(), Linux.getpid());
        assertEquals(4096, Linux.pageSize());
    }
}

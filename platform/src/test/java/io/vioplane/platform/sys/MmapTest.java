package io.vioplane.platform.sys;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

class MmapTest {
    @Test
    void twoMappingsOfOneMemfdSeeTheSameBytes() {
        final int fd = MemFd.create("two-maps", 1 << 20);
        try (Arena arena = Arena.ofShared()) {
            final MemorySegment first = Mmap.map(fd, 0, 1 << 20, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, arena);
            final MemorySegment second = Mmap.map(fd, 4096, 8192, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, arena);
            assertNotEquals(first.address(), second.address());
            first.set(ValueLayout.JAVA_LONG, 4096 + 8, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, second.get(ValueLayout.JAVA_LONG, 8));
            second.set(ValueLayout.JAVA_INT, 8188, 42);
            assertEquals(42, first.get(ValueLayout.JAVA_INT, 4096 + 8188));
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void closingTheArenaUnmapsAndLaterAccessIsRefused() {
        final Arena arena = Arena.ofShared();
        final MemorySegment memory = Mmap.mapAnonymous(1 << 16, false, arena);
        memory.set(ValueLayout.JAVA_INT, 0, 7);
        Mmap.advise(memory, Mmap.MADV_DONTNEED);
        assertEquals(0, memory.get(ValueLayout.JAVA_INT, 0), "MADV_DONTNEED drops private anonymous pages");
        arena.close();
        assertThrows(IllegalStateException.class, () -> memory.get(ValueLayout.JAVA_INT, 0));
    }

    @Test
    void aSealedMemfdCannotBeShrunkUnderItsMapping() {
        final int sealable = MemFd.createSealable("sealable", 8192);
        final int plain = MemFd.create("plain", 8192);
        try {
            assertTrue(MemFd.sealAgainstShrinking(sealable));
            assertTrue(MemFd.sealAgainstShrinking(sealable), "sealing twice is fine");
            final SysException refused = assertThrows(SysException.class, () -> MemFd.truncate(sealable, 0));
            assertEquals(Errno.EPERM, refused.errno(), "the seal refuses the shrink");
            MemFd.truncate(sealable, 16384);
            assertFalse(MemFd.sealAgainstShrinking(plain), "a memfd created without MFD_ALLOW_SEALING cannot be sealed");
        } finally {
            FileIo.close(sealable);
            FileIo.close(plain);
        }
    }

    @Test
    void mappingFailuresCarryErrno() {
        try (Arena arena = Arena.ofConfined()) {
            final SysException failure = assertThrows(SysException.class,
                    () -> Mmap.map(1_000_000, 0, 4096, Mmap.PROT_READ, Mmap.MAP_SHARED, arena));
            assertEquals(Errno.EBADF, failure.errno());
            assertThrows(IllegalArgumentException.class, () -> Mmap.mapAnonymous(0, false, arena));
        }
    }
}

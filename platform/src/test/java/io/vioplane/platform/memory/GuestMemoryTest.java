package io.vioplane.platform.memory;

import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.testing.OpenFds;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.vioplane.platform.memory.MemoryAccessException.Reason.*;
import static org.junit.jupiter.api.Assertions.*;

class GuestMemoryTest {
    private static final long LOW_GPA = 0;
    private static final long LOW_BYTES = 1 << 20;
    private static final long HIGH_GPA = 0x1_0000_0000L;
    private static final long HIGH_BYTES = 1 << 20;

    private static GuestMemory twoRegions() {
        return GuestMemory.builder().addMemFd(HIGH_GPA, HIGH_BYTES).addMemFd(LOW_GPA, LOW_BYTES).build();
    }

    @Test
    void regionsAreSortedAndFoundByAddress() {
        try (GuestMemory memory = twoRegions()) {
            assertEquals(2, memory.regionCount());
            assertEquals(LOW_GPA, memory.regions().get(0).gpa());
            assertEquals(HIGH_GPA, memory.regions().get(1).gpa());
            assertEquals(HIGH_GPA, memory.regionAt(HIGH_GPA + 5).gpa());
            assertNull(memory.regionAt(LOW_BYTES));
            assertNull(memory.regionAt(-1L));
            assertEquals(LOW_BYTES + HIGH_BYTES, memory.totalBytes());
        }
    }

    @Test
    void theLastRegionFoundNeverAnswersForAnAddressOutsideIt() {
        try (GuestMemory memory = twoRegions()) {
            for (int round = 0; round < 3; round++) {
                assertEquals(HIGH_GPA, memory.regionAt(HIGH_GPA + HIGH_BYTES - 1).gpa());
                assertNull(memory.regionAt(HIGH_GPA + HIGH_BYTES), "one past the hinted region's end");
                assertNull(memory.regionAt(HIGH_GPA - 1), "just below the hinted region");
                assertEquals(LOW_GPA, memory.regionAt(LOW_GPA).gpa());
                assertNull(memory.regionAt(LOW_BYTES));
                assertThrows(MemoryAccessException.class, () -> memory.getInt(LOW_BYTES));
            }
        }
    }

    @Test
    void valuesAreLittleEndianAndRoundTrip() {
        try (GuestMemory memory = twoRegions()) {
            memory.putLong(0x100, 0x0807060504030201L);
            assertEquals(0x01, memory.getByte(0x100));
            assertEquals(0x0201, memory.getShort(0x100));
            assertEquals(0x04030201, memory.getInt(0x100));
            memory.putShort(HIGH_GPA + 1, (short) 0xBEEF);
            assertEquals((short) 0xBEEF, memory.getShort(HIGH_GPA + 1));
            memory.putShortRelease(HIGH_GPA + 2, (short) 7);
            assertEquals(7, memory.getShortAcquire(HIGH_GPA + 2));
            memory.putIntRelease(0x104, 9);
            assertEquals(9, memory.getIntAcquire(0x104));
            memory.putLongRelease(0x108, -1L);
            assertEquals(-1L, memory.getLongAcquire(0x108));
        }
    }

    @Test
    void refusesAnAddressOutsideEveryRegionNamingIt() {
        try (GuestMemory memory = twoRegions()) {
            final MemoryAccessException failure = assertThrows(MemoryAccessException.class,
                    () -> memory.getInt(0x8000_0000L));
            assertEquals(OUT_OF_RANGE, failure.reason());
            assertEquals(0x8000_0000L, failure.address());
            assertTrue(failure.getMessage().contains("0x80000000"), failure.getMessage());
            assertEquals(OUT_OF_RANGE, assertThrows(MemoryAccessException.class,
                    () -> memory.translate(LOW_BYTES - 4, 8, AccessMode.READ)).reason(), "runs past the region's end");
            assertEquals(OUT_OF_RANGE, assertThrows(MemoryAccessException.class,
                    () -> memory.getLong(HIGH_GPA + HIGH_BYTES - 7)).reason());
            assertEquals(OUT_OF_RANGE, assertThrows(MemoryAccessException.class,
                    () -> memory.putByte(-4096L, (byte) 1)).reason(), "an address above 2^63");
        }
    }

    @Test
    void refusesARangeThatWrapsTheAddressSpace() {
        try (GuestMemory memory = twoRegions()) {
            final MemoryAccessException failure = assertThrows(MemoryAccessException.class,
                    () -> memory.translate(0x1000, -0x800L, AccessMode.READ));
            assertEquals(OVERFLOW, failure.reason());
            assertEquals(OVERFLOW, assertThrows(MemoryAccessException.class,
                    () -> memory.translate(0xFFFF_FFFF_FFFF_F000L, 0x2000, AccessMode.WRITE)).reason());
            assertEquals(OUT_OF_RANGE, assertThrows(MemoryAccessException.class,
                    () -> memory.translate(0x10, Long.MAX_VALUE, AccessMode.READ)).reason(),
                    "a length past 2^63 that does not wrap 2^64 is simply out of range");
        }
    }

    @Test
    void refusesOneSegmentAcrossAdjacentRegionsButCopiesAcrossThem() {
        try (GuestMemory memory = GuestMemory.builder().addMemFd(0, 4096).addMemFd(4096, 4096).build()) {
            final MemoryAccessException failure = assertThrows(MemoryAccessException.class,
                    () -> memory.translate(4090, 12, AccessMode.READ));
            assertEquals(CROSSES_REGIONS, failure.reason());
            assertEquals(CROSSES_REGIONS, assertThrows(MemoryAccessException.class, () -> memory.getLong(4092)).reason());

            final byte[] pattern = new byte[100];
            for (int i = 0; i < pattern.length; i++) {
                pattern[i] = (byte) i;
            }
            memory.writeBytes(4046, pattern);
            assertArrayEquals(pattern, memory.readBytes(4046, 100), "explicit copies span adjacent regions");
            assertEquals(50, memory.getByte(4096));
            assertThrows(MemoryAccessException.class, () -> memory.readBytes(8000, 200), "the span ends at 8192");
        }
    }

    @Test
    void refusesMisalignedAtomicAccess() {
        try (GuestMemory memory = twoRegions()) {
            assertEquals(MISALIGNED, assertThrows(MemoryAccessException.class,
                    () -> memory.getShortAcquire(0x101)).reason());
            assertEquals(MISALIGNED, assertThrows(MemoryAccessException.class,
                    () -> memory.putIntRelease(0x102, 1)).reason());
            final MemoryAccessException failure = assertThrows(MemoryAccessException.class,
                    () -> memory.getLongAcquire(0x104));
            assertEquals(MISALIGNED, failure.reason());
            assertTrue(failure.getMessage().contains("0x104"));
        }
    }

    @Test
    void translatesToASliceOfExactlyTheRange() {
        try (GuestMemory memory = twoRegions()) {
            final MemorySegment slice = memory.translate(HIGH_GPA + 64, 16, AccessMode.READ_WRITE);
            assertEquals(16, slice.byteSize());
            slice.set(LittleEndian.U32, 0, 0xCAFE);
            assertEquals(0xCAFE, memory.getInt(HIGH_GPA + 64));
            assertThrows(IndexOutOfBoundsException.class, () -> slice.get(LittleEndian.U32, 16));
            assertEquals(0, memory.translate(LOW_GPA, 0, AccessMode.READ).byteSize());
        }
    }

    @Test
    void resolvesToTheRegionSegmentWithoutThrowing() {
        try (GuestMemory memory = twoRegions()) {
            final DmaRange range = new DmaRange();
            assertTrue(memory.resolve(HIGH_GPA + 100, 50, AccessMode.READ, range));
            assertSame(memory.regions().get(1).segment(), range.segment());
            assertEquals(100, range.offset());
            assertFalse(memory.resolve(HIGH_GPA + HIGH_BYTES - 10, 11, AccessMode.READ, range), "runs past the end");
            assertFalse(memory.resolve(0x8000_0000L, 1, AccessMode.READ, range), "unmapped");
            assertFalse(memory.resolve(-16L, 32, AccessMode.READ, range), "wraps");
            assertFalse(memory.resolve(0, -1, AccessMode.READ, range), "negative length");
        }
    }

    @Test
    void refusesOverlappingRegionsAndReleasesWhatWasMapped() {
        final int before = OpenFds.count();
        final IllegalArgumentException failure = assertThrows(IllegalArgumentException.class,
                () -> GuestMemory.builder().addMemFd(0, 8192).addMemFd(4096, 8192).build());
        assertTrue(failure.getMessage().contains("overlap"), failure.getMessage());
        assertEquals(before, OpenFds.count(), "the memfds of a failed build are closed");
    }

    @Test
    void refusesARegionThatRunsPastTheEndOfItsFile() {
        final int fd = MemFd.create("short", 8192);
        try {
            final IllegalArgumentException failure = assertThrows(IllegalArgumentException.class,
                    () -> GuestMemory.builder().addFromFd(0, 8192, fd, 4096, false).build());
            assertTrue(failure.getMessage().contains("past the end of its file"), failure.getMessage());
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void mapsARegionAtAnUnalignedFileOffset() {
        final int fd = MemFd.create("offset", 16384);
        try (GuestMemory whole = GuestMemory.builder().addFromFd(0, 16384, fd, 0, false).build();
             GuestMemory part = GuestMemory.builder().addFromFd(0x5000, 4000, fd, 4196, false).build()) {
            whole.putInt(4196, 0x12345678);
            assertEquals(0x12345678, part.getInt(0x5000));
            assertEquals(4196, part.regions().getFirst().fdOffsetBytes());
        } finally {
            FileIo.close(fd);
        }
    }

    @Test
    void accessAfterCloseIsRefusedNotACrash() {
        final GuestMemory memory = twoRegions();
        final MemorySegment slice = memory.translate(0, 8, AccessMode.READ);
        memory.close();
        assertThrows(IllegalStateException.class, () -> memory.getLong(0));
        assertThrows(IllegalStateException.class, () -> slice.get(LittleEndian.U64, 0));
    }

    @Test
    void closeReleasesOwnedDescriptorsOnly() {
        final int before = OpenFds.count();
        final int foreign = MemFd.create("foreign", 4096);
        try (Arena arena = Arena.ofConfined()) {
            final GuestMemory memory = GuestMemory.builder().addMemFd(0, 4096).addFromFd(4096, 4096, foreign, 0, false)
                    .addSegment(8192, arena.allocate(4096)).build();
            assertEquals(-1, memory.regions().get(2).fd(), "plain segments have no backing descriptor");
            memory.close();
            assertTrue(OpenFds.isOpen(foreign), "a descriptor the memory did not take stays open");
        } finally {
            FileIo.close(foreign);
        }
        assertEquals(before, OpenFds.count());
    }
}

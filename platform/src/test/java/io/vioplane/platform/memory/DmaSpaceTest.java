package io.vioplane.platform.memory;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.*;

/** The typed accessors are {@link DmaSpace} defaults: a decorator (an IOMMU) gets them through its translation. */
class DmaSpaceTest {
    private static final long IOVA_BASE = 0x1_0000_0000L;

    /** An IOMMU stand-in: iova = gpa + 4 GiB, and the device may only read. */
    private record ReadOnlyIommu(GuestMemory memory) implements DmaSpace {
        @Override
        public MemorySegment translate(final long iova, final long lengthBytes, final AccessMode mode) {
            if (mode.writes()) {
                throw new MemoryAccessException(MemoryAccessException.Reason.DENIED, iova, lengthBytes,
                        "(read-only mapping)");
            }
            return memory.translate(iova - IOVA_BASE, lengthBytes, mode);
        }

        @Override
        public boolean resolve(final long iova, final long lengthBytes, final AccessMode mode, final DmaRange out) {
            return !mode.writes() && memory.resolve(iova - IOVA_BASE, lengthBytes, mode, out);
        }
    }

    @Test
    void aDecoratorReadsThroughItsTranslationWithTheInheritedAccessors() {
        try (Arena arena = Arena.ofConfined();
             GuestMemory memory = GuestMemory.builder().addSegment(0, arena.allocate(4096)).build()) {
            memory.putLong(64, 0x1122_3344_5566_7788L);
            final DmaSpace iommu = new ReadOnlyIommu(memory);
            assertEquals(0x1122_3344_5566_7788L, iommu.getLong(IOVA_BASE + 64));
            assertEquals(0x5566_7788, iommu.getIntAcquire(IOVA_BASE + 64));
            assertEquals((short) 0x7788, iommu.getShort(IOVA_BASE + 64));
            assertArrayEquals(memory.readBytes(64, 8), iommu.readBytes(IOVA_BASE + 64, 8));
        }
    }

    @Test
    void aDecoratorsPermissionsAndTheAlignmentRuleHoldForTheInheritedAccessors() {
        try (Arena arena = Arena.ofConfined();
             GuestMemory memory = GuestMemory.builder().addSegment(0, arena.allocate(4096)).build()) {
            final DmaSpace iommu = new ReadOnlyIommu(memory);
            assertEquals(MemoryAccessException.Reason.DENIED, assertThrows(MemoryAccessException.class,
                    () -> iommu.putShortRelease(IOVA_BASE + 2, (short) 1)).reason());
            assertEquals(MemoryAccessException.Reason.DENIED, assertThrows(MemoryAccessException.class,
                    () -> iommu.writeBytes(IOVA_BASE, new byte[4])).reason());
            assertEquals(MemoryAccessException.Reason.MISALIGNED, assertThrows(MemoryAccessException.class,
                    () -> iommu.getIntAcquire(IOVA_BASE + 2)).reason());
            assertEquals(MemoryAccessException.Reason.OUT_OF_RANGE, assertThrows(MemoryAccessException.class,
                    () -> iommu.getLong(IOVA_BASE + 4092)).reason());
            assertEquals(0, memory.getInt(0), "nothing was written");
        }
    }
}

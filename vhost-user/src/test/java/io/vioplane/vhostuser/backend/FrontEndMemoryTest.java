package io.vioplane.vhostuser.backend;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.sys.MemFd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The memory table as QEMU drives it with CONFIGURE_MEM_SLOTS: one vhost device per queue pair on one connection,
 * each adding and removing the same regions.
 */
class FrontEndMemoryTest {
    private static final long MIB = 1 << 20;
    private final FrontEndMemory table = new FrontEndMemory();
    private final List<GuestMemory> mapped = new ArrayList<>();

    @AfterEach
    void close() {
        mapped.forEach(GuestMemory::close);
        table.close();
    }

    private GuestMemory keep(final GuestMemory memory) {
        if (memory != null) {
            mapped.add(memory);
        }
        return memory;
    }

    @Test
    void countsARegionThatASecondVhostDeviceAddsAgain() {
        final int fd = MemFd.create("a", 4 * MIB);
        keep(table.add(0, 4 * MIB, 0x7f00_0000_0000L, 0, fd));
        assertTrue(table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 0), "the repeat is recognised");
        assertEquals(2, table.referencesAt(0));
        assertEquals(1, table.regions().size(), "mapped once");
    }

    @Test
    void keepsARegionMappedUntilItsLastReferenceIsRemoved() {
        keep(table.add(0, 4 * MIB, 0x7f00_0000_0000L, 0, MemFd.create("a", 4 * MIB)));
        table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 0);
        assertTrue(table.dropSharedReference(0, 4 * MIB, 0x7f00_0000_0000L), "one vhost device still uses it");
        assertEquals(1, table.referencesAt(0));
        assertFalse(table.dropSharedReference(0, 4 * MIB, 0x7f00_0000_0000L), "the last reference unmaps");
        assertNull(table.remove(0, 4 * MIB, 0x7f00_0000_0000L), "no memory is left");
        assertEquals(0, table.referencesAt(0));
        assertTrue(table.isEmpty());
    }

    @Test
    void refusesARegionAtTheSameAddressFromAnotherFileOffset() {
        keep(table.add(0, 4 * MIB, 0x7f00_0000_0000L, 0, MemFd.create("a", 8 * MIB)));
        assertFalse(table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 4 * MIB), "not the same region");
        final int other = MemFd.create("b", 8 * MIB);
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> table.add(0, 4 * MIB, 0x7f00_0000_0000L, 4 * MIB, other));
        assertTrue(refused.getMessage().contains("overlaps"), refused.getMessage());
        assertEquals(1, table.referencesAt(0));
    }

    @Test
    void refusesAPartialOverlapEvenWhenAnIdenticalRegionIsCounted() {
        keep(table.add(0, 4 * MIB, 0x7f00_0000_0000L, 0, MemFd.create("a", 4 * MIB)));
        table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 0);
        final int other = MemFd.create("b", 4 * MIB);
        assertThrows(IllegalArgumentException.class, () -> table.add(2 * MIB, 4 * MIB, 0x7f10_0000_0000L, 0, other));
        assertEquals(2, table.referencesAt(0));
    }

    @Test
    void aWholeTableReplacementStartsEveryRegionAtOneReference() {
        keep(table.add(0, 4 * MIB, 0x7f00_0000_0000L, 0, MemFd.create("a", 4 * MIB)));
        table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 0);
        keep(table.replace(new long[][] {{0, 4 * MIB, 0x7f00_0000_0000L, 0}},
                new int[] {MemFd.create("c", 4 * MIB)}));
        assertEquals(1, table.referencesAt(0));
        assertFalse(table.dropSharedReference(0, 4 * MIB, 0x7f00_0000_0000L));
    }

    @Test
    void aHotpluggedRegionAddedByEveryVhostDeviceIsUnmappedWhenAllHaveRemovedIt() {
        keep(table.add(0, 4 * MIB, 0x7f00_0000_0000L, 0, MemFd.create("ram", 4 * MIB)));
        table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 0);
        final int dimm = MemFd.create("dimm", 2 * MIB);
        final GuestMemory withDimm = keep(table.add(0x1_0000_0000L, 2 * MIB, 0x7e00_0000_0000L, 0, dimm));
        assertEquals(2, withDimm.regionCount());
        assertTrue(table.addReference(0x1_0000_0000L, 2 * MIB, 0x7e00_0000_0000L, 0));
        assertTrue(table.dropSharedReference(0x1_0000_0000L, 2 * MIB, 0x7e00_0000_0000L));
        assertFalse(table.dropSharedReference(0x1_0000_0000L, 2 * MIB, 0x7e00_0000_0000L));
        final GuestMemory without = keep(table.remove(0x1_0000_0000L, 2 * MIB, 0x7e00_0000_0000L));
        assertEquals(1, without.regionCount());
        assertEquals(-1, table.gpaOf(0x7e00_0000_0000L, 64), "the dimm's user addresses no longer translate");
        assertEquals(2, table.referencesAt(0));
    }

    @Test
    void refusesARegionAddedMoreTimesThanAFrontEndHasVhostDevices() {
        keep(table.add(0, 4 * MIB, 0x7f00_0000_0000L, 0, MemFd.create("a", 4 * MIB)));
        for (int i = 1; i < FrontEndMemory.MAX_REFERENCES; i++) {
            assertTrue(table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 0));
        }
        assertThrows(IllegalArgumentException.class, () -> table.addReference(0, 4 * MIB, 0x7f00_0000_0000L, 0));
        assertEquals(FrontEndMemory.MAX_REFERENCES, table.referencesAt(0));
    }
}

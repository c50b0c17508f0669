package io.vioplane.iommu;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.MemoryAccessException;
import io.vioplane.platform.runtime.CounterSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The device IOTLB (vhost-user's, QEMU docs/interop/vhost-user.rst "IOMMU support") and the DMA space over it:
 * translations, permissions, misses asked once, invalidations taking effect at once through the cache, ranges crossing
 * entries, and the hostile updates it refuses (zero size, wrapping, no permission, overlap) with a counter each.
 */
class DeviceIotlbDmaSpaceTest {
    private static final long RW = IotlbEntry.READ | IotlbEntry.WRITE;
    private final GuestMemory memory = GuestMemory.ofMemFd(0, 1 << 20);
    private final CounterSet<DeviceIotlbCounter> counters = CounterSet.unpublished(DeviceIotlbCounter.class);
    private final DeviceIotlb table = new DeviceIotlb(16, counters);
    private final List<Long> misses = new ArrayList<>();
    private final DeviceIotlbDmaSpace space = new DeviceIotlbDmaSpace(table, memory, (iova, permissions) -> {
        misses.add(iova);
        return true;
    });
    private final DmaRange range = new DmaRange();

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void anIovaTranslatesToTheGuestPageItsEntryNames() {
        assertEquals(DeviceIotlb.Outcome.APPLIED, table.update(0x1_0000_0000L, 0x1000, 0x5000, (int) RW));
        memory.putInt(0x5010, 0xCAFE);
        assertEquals(0xCAFE, space.getInt(0x1_0000_0010L));
        assertEquals(1, counters.get(DeviceIotlbCounter.UPDATES));
    }

    @Test
    void aMissIsAskedOnceAndTheRequestWaitsForTheUpdate() {
        assertFalse(space.resolve(0x7000_0123L, 64, AccessMode.READ, range));
        assertEquals(MemoryAccessException.Reason.TRANSLATION_PENDING, space.refusal());
        assertFalse(space.resolve(0x7000_0456L, 64, AccessMode.READ, range));
        assertEquals(List.of(0x7000_0123L), misses, "one miss per page until an update arrives");
        table.update(0x7000_0000L, 0x1000, 0x3000, IotlbEntry.READ);
        assertTrue(space.resolve(0x7000_0456L, 64, AccessMode.READ, range));
        assertEquals(0x3456, range.offset(), "one region from gpa 0: the offset is the gpa");
    }

    @Test
    void aDeviceWriteIntoAReadOnlyMappingIsDeniedAndCounted() {
        table.update(0x2000, 0x1000, 0x2000, IotlbEntry.READ);
        assertTrue(space.resolve(0x2000, 16, AccessMode.READ, range));
        assertFalse(space.resolve(0x2000, 16, AccessMode.WRITE, range));
        assertEquals(MemoryAccessException.Reason.DENIED, space.refusal());
        assertEquals(1, counters.get(DeviceIotlbCounter.PERMISSION_DENIED));
        assertTrue(misses.isEmpty(), "a permission refusal is not a miss");
    }

    @Test
    void anInvalidatedTranslationIsGoneForTheNextAccessEvenWhenCached() {
        table.update(0x9000, 0x1000, 0x4000, (int) RW);
        assertTrue(space.resolve(0x9000, 8, AccessMode.READ, range), "now cached");
        assertEquals(DeviceIotlb.Outcome.APPLIED, table.invalidate(0x9800, 1));
        assertFalse(space.resolve(0x9000, 8, AccessMode.READ, range));
        assertEquals(MemoryAccessException.Reason.TRANSLATION_PENDING, space.refusal());
        assertEquals(1, counters.get(DeviceIotlbCounter.ENTRIES_INVALIDATED));
    }

    @Test
    void aRangeOverContiguousEntriesIsOnePieceAndOverScatteredOnesIsSplit() {
        table.update(0x10000, 0x1000, 0x20000, (int) RW);
        table.update(0x11000, 0x1000, 0x21000, (int) RW);
        table.update(0x12000, 0x1000, 0x40000, (int) RW);
        assertEquals(0x1800, space.resolvePiece(0x10800, 0x1800, AccessMode.WRITE, range), "contiguous: one piece");
        assertEquals(0x20800, range.offset());
        assertEquals(0x800, space.resolvePiece(0x11800, 0x1000, AccessMode.WRITE, range), "scattered: the first piece");
        assertFalse(space.resolve(0x11800, 0x1000, AccessMode.WRITE, range));
        assertEquals(MemoryAccessException.Reason.CROSSES_REGIONS, space.refusal());
        final byte[] data = new byte[0x1000];
        data[0x7FF] = 1;
        data[0x800] = 2;
        space.writeBytes(0x11800, data);
        assertEquals(1, memory.getByte(0x21FFF));
        assertEquals(2, memory.getByte(0x40000), "a copy follows the scattered pages");
    }

    @Test
    void anEntryLeadingOutsideGuestMemoryIsRefusedAndCounted() {
        table.update(0x5000, 0x1000, 0x7FFF_0000L, (int) RW);
        assertFalse(space.resolve(0x5000, 8, AccessMode.READ, range));
        assertEquals(MemoryAccessException.Reason.OUT_OF_RANGE, space.refusal());
        assertEquals(1, counters.get(DeviceIotlbCounter.OUTSIDE_GUEST_MEMORY));
        assertThrows(MemoryAccessException.class, () -> space.getLong(0x5000));
    }

    @Test
    void hostileUpdatesAreRefusedWithACounterEach() {
        table.update(0x1000, 0x1000, 0x1000, (int) RW);
        assertEquals(DeviceIotlb.Outcome.ZERO_SIZE, table.update(0x3000, 0, 0x3000, (int) RW));
        assertEquals(DeviceIotlb.Outcome.WRAPS, table.update(-0x1000L, 0x2000, 0x3000, (int) RW));
        assertEquals(DeviceIotlb.Outcome.WRAPS, table.update(0x3000, 0x1000, -0x800L, (int) RW));
        assertEquals(DeviceIotlb.Outcome.NO_PERMISSIONS, table.update(0x3000, 0x1000, 0x3000, 0));
        assertEquals(DeviceIotlb.Outcome.OVERLAP, table.update(0x1800, 0x1000, 0x9000, (int) RW));
        assertEquals(DeviceIotlb.Outcome.DUPLICATE, table.update(0x1000, 0x1000, 0x1000, (int) RW));
        assertEquals(DeviceIotlb.Outcome.ZERO_SIZE, table.invalidate(0x1000, 0));
        assertEquals(DeviceIotlb.Outcome.WRAPS, table.invalidate(-1L, 2));
        assertEquals(1, table.size(), "nothing refused changed the table");
        assertEquals(2, counters.get(DeviceIotlbCounter.REFUSED_ZERO_SIZE));
        assertEquals(3, counters.get(DeviceIotlbCounter.REFUSED_WRAPS));
        assertEquals(1, counters.get(DeviceIotlbCounter.REFUSED_PERMISSIONS));
        assertEquals(1, counters.get(DeviceIotlbCounter.REFUSED_OVERLAP));
    }

    @Test
    void anEntryMayEndAtTheTopOfTheAddressSpace() {
        assertEquals(DeviceIotlb.Outcome.APPLIED, table.update(-0x1000L, 0x1000, 0x6000, (int) RW));
        assertTrue(space.resolve(-0x10L, 0x10, AccessMode.READ, range));
        assertFalse(space.resolve(-0x10L, 0x20, AccessMode.READ, range), "a range past 2^64 wraps");
        assertEquals(MemoryAccessException.Reason.OVERFLOW, space.refusal());
    }

    @Test
    void aFloodOfUpdatesStaysWithinCapacityByEviction() {
        for (int i = 0; i < 100; i++) {
            table.update(0x100000L + i * 0x1000L, 0x1000, 0x1000, (int) RW);
        }
        assertEquals(16, table.size());
        assertEquals(84, counters.get(DeviceIotlbCounter.EVICTIONS));
        for (int i = 1; i < table.size(); i++) {
            assertTrue(Long.compareUnsigned(table.lastIova(i - 1), table.firstIova(i)) < 0, "sorted, disjoint");
        }
    }
}

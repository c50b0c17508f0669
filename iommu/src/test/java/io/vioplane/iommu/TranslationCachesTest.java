package io.vioplane.iommu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TranslationCachesTest {
    @Test
    void aGuestMappingMillionsOfPagesCannotGrowTheIotlbBeyondItsCapacity() {
        final Iotlb iotlb = new Iotlb();
        for (int i = 0; i < 3 * Iotlb.CAPACITY + 7; i++) {
            iotlb.insert(new IotlbEntry(1, 0x1000L * i, 12, 0x1000L * i, IotlbEntry.READ));
            assertTrue(iotlb.size() <= Iotlb.CAPACITY);
        }
    }

    @Test
    void iotlbFindsLargePagesByAnyAddressInside() {
        final Iotlb iotlb = new Iotlb();
        iotlb.insert(new IotlbEntry(3, 0x4000_0000L, 30, 0, IotlbEntry.READ));
        iotlb.insert(new IotlbEntry(3, 0x20_0000L, 21, 0x60_0000L, IotlbEntry.READ));
        assertEquals(0x4000_0000L, iotlb.lookup(3, 0x7FFF_FFFFL).iovaBase());
        assertEquals(0x20_0000L, iotlb.lookup(3, 0x3F_FFFFL).iovaBase());
        assertNull(iotlb.lookup(4, 0x20_0000L), "another domain's entry is not seen");
        iotlb.invalidatePages(3, 0x7000_0000L, 0);
        assertNull(iotlb.lookup(3, 0x4000_0000L), "a 4 KiB invalidation inside a 1 GiB page removes it");
        assertNotNull(iotlb.lookup(3, 0x20_0000L));
    }

    @Test
    void contextCacheIsBoundedAndDeviceInvalidationHonoursTheFunctionMask() {
        final ContextCache cache = new ContextCache();
        for (int sourceId = 0; sourceId < 0x10000; sourceId++) {
            cache.insert(new ContextEntry(sourceId, false, true, 0, 0, 1));
        }
        cache.invalidateAll();
        for (int function = 0; function < 8; function++) {
            cache.insert(new ContextEntry(SourceId.of(1, 2, function), false, true, 0, 0, 1));
        }
        cache.invalidateDevice(SourceId.of(1, 2, 0), 1);
        assertNull(cache.lookup(SourceId.of(1, 2, 4)), "FM = 1 ignores function bit 2");
        assertNotNull(cache.lookup(SourceId.of(1, 2, 1)));
        cache.invalidateDevice(SourceId.of(1, 2, 0), 3);
        assertNull(cache.lookup(SourceId.of(1, 2, 7)));
    }
}

package io.vioplane.iommu;

import io.vioplane.iommu.testkit.VtdFixture;
import io.vioplane.platform.memory.AccessMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.vioplane.iommu.VtdRegisterFile.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A stale translation stays visible exactly until the invalidation that removes it (VT-d 3.x section 6.5). */
class InvalidationTest {
    private static final int NIC = SourceId.of(0, 3, 0);
    private static final int DISK = SourceId.of(0, 4, 0);
    private final VtdFixture vtd = new VtdFixture();

    @AfterEach
    void close() {
        vtd.close();
    }

    private long gpaOf(final int sourceId, final long iova) {
        return vtd.unit.translate(sourceId, iova, AccessMode.READ).gpaOf(iova);
    }

    private void registerIotlb(final int granularity, final int domainId, final long iva) {
        vtd.unit.registers().write(IVA, 8, iva);
        vtd.unit.registers().write(IOTLB, 8, 1L << 63 | (long) granularity << 60 | (long) domainId << 32);
    }

    @Test
    void aRemappedPageKeepsItsOldTranslationUntilPageSelectiveInvalidation() {
        vtd.attach(NIC, 1, 4);
        final long leaf = vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        assertEquals(0x5000L, gpaOf(NIC, 0x1000));
        vtd.memory.putLong(leaf, 0x6000 | 3);
        assertEquals(0x5000L, gpaOf(NIC, 0x1000), "stale until invalidated");
        registerIotlb(3, 2, 0x1000);
        assertEquals(0x5000L, gpaOf(NIC, 0x1000), "another domain's invalidation leaves it");
        registerIotlb(3, 1, 0x2000);
        assertEquals(0x5000L, gpaOf(NIC, 0x1000), "another page's invalidation leaves it");
        registerIotlb(3, 1, 0x1000);
        assertEquals(0x6000L, gpaOf(NIC, 0x1000));
    }

    @Test
    void anUnmappedPageStaysUsableUntilInvalidatedThenFaults() {
        vtd.attach(NIC, 1, 4);
        final long leaf = vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        gpaOf(NIC, 0x1000);
        vtd.memory.putLong(leaf, 0);
        assertEquals(0x5000L, gpaOf(NIC, 0x1000));
        registerIotlb(2, 1, 0);
        assertThrows(DmaFault.class, () -> gpaOf(NIC, 0x1000));
    }

    @Test
    void addressMaskInvalidatesTheNaturallyAlignedBlock() {
        vtd.attach(NIC, 1, 4);
        final long[] leaves = new long[8];
        for (int i = 0; i < 8; i++) {
            leaves[i] = vtd.map(NIC, 0x10_0000L + 0x1000L * i, 0x40_0000L + 0x1000L * i);
        }
        vtd.enableTranslation();
        for (int i = 0; i < 8; i++) {
            gpaOf(NIC, 0x10_0000L + 0x1000L * i);
            vtd.memory.putLong(leaves[i], 0x80_0000L + 0x1000L * i | 3);
        }
        registerIotlb(3, 1, 0x10_2000L | 2);
        for (int i = 0; i < 8; i++) {
            final long expected = (i < 4 ? 0x80_0000L : 0x40_0000L) + 0x1000L * i;
            assertEquals(expected, gpaOf(NIC, 0x10_0000L + 0x1000L * i), "page " + i + " (AM = 2 covers 0..3)");
        }
    }

    @Test
    void pageSelectiveInvalidationRemovesALargePageItFallsIn() {
        vtd.attach(NIC, 1, 4);
        final long leaf = vtd.map(NIC, 0x20_0000L, 0x40_0000L, 21, IotlbEntry.READ | IotlbEntry.WRITE);
        vtd.enableTranslation();
        gpaOf(NIC, 0x20_0000L);
        vtd.memory.putLong(leaf, 0x60_0000L | 1 << 7 | 3);
        registerIotlb(3, 1, 0x21_0000L);
        assertEquals(0x61_0000L, gpaOf(NIC, 0x21_0000L));
    }

    @Test
    void aChangedContextEntryIsUsedOnlyAfterContextInvalidation() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        gpaOf(NIC, 0x1000);
        vtd.passThrough(NIC, 3);
        assertEquals(0x5000L, gpaOf(NIC, 0x1000), "cached context entry still used");
        vtd.unit.registers().write(CCMD, 8, 1L << 63 | 3L << 61 | (long) DISK << 16 | 1);
        assertEquals(0x5000L, gpaOf(NIC, 0x1000), "device-selective invalidation of another device leaves it");
        vtd.unit.registers().write(CCMD, 8, 1L << 63 | 3L << 61 | (long) NIC << 16 | 1);
        assertEquals(0x1000L, gpaOf(NIC, 0x1000), "now pass-through");
    }

    @Test
    void contextInvalidationWithFunctionMaskCoversEveryFunction() {
        final int function1 = SourceId.of(0, 3, 1);
        vtd.attach(NIC, 1, 4);
        vtd.attachLike(function1, NIC);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        gpaOf(NIC, 0x1000);
        gpaOf(function1, 0x1000);
        vtd.passThrough(NIC, 1);
        vtd.passThrough(function1, 1);
        vtd.unit.registers().write(CCMD, 8, 1L << 63 | 3L << 61 | 3L << 32 | (long) NIC << 16 | 1);
        assertEquals(0x1000L, gpaOf(NIC, 0x1000));
        assertEquals(0x1000L, gpaOf(function1, 0x1000));
    }

    @Test
    void aNewRootTableIsUsedButCachedEntriesStayUntilInvalidated() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        gpaOf(NIC, 0x1000);
        vtd.unit.registers().write(RTADDR, 8, vtd.allocatePage());
        vtd.command(GCMD_SRTP, true);
        assertEquals(0x5000L, gpaOf(NIC, 0x1000));
        vtd.unit.registers().write(CCMD, 8, 1L << 63 | 1L << 61);
        assertEquals(FaultReason.ROOT_ENTRY_NOT_PRESENT,
                assertThrows(DmaFault.class, () -> gpaOf(NIC, 0x1000)).reason());
    }

    @Test
    void queuedIotlbInvalidationRemovesOnlyItsDomain() {
        vtd.attach(NIC, 1, 4);
        vtd.attach(DISK, 2, 4);
        final long nicLeaf = vtd.map(NIC, 0x1000, 0x5000);
        final long diskLeaf = vtd.map(DISK, 0x1000, 0x7000);
        vtd.enableTranslation();
        vtd.enableQueue(0);
        gpaOf(NIC, 0x1000);
        gpaOf(DISK, 0x1000);
        vtd.memory.putLong(nicLeaf, 0x6000 | 3);
        vtd.memory.putLong(diskLeaf, 0x8000 | 3);
        vtd.queue(VtdFixture.iotlbDomain(2));
        assertEquals(0x5000L, gpaOf(NIC, 0x1000));
        assertEquals(0x8000L, gpaOf(DISK, 0x1000));
        vtd.queue(VtdFixture.iotlbGlobal());
        assertEquals(0x6000L, gpaOf(NIC, 0x1000));
        assertEquals(2, vtd.queueHead());
        assertEquals(2, vtd.unit.count(IommuCounter.IOTLB_INVALIDATIONS));
    }

    @Test
    void queuedContextAndPageInvalidationsTakeEffectInOrder() {
        vtd.attach(NIC, 1, 4);
        final long leaf = vtd.map(NIC, 0x3000, 0x5000);
        vtd.enableTranslation();
        vtd.enableQueue(0);
        gpaOf(NIC, 0x3000);
        vtd.memory.putLong(leaf, 0x9000 | 3);
        final long[] context = VtdFixture.contextGlobal();
        final long[] page = VtdFixture.iotlbPages(1, 0x3000, 0);
        vtd.queue(context[0], context[1], page[0], page[1]);
        assertEquals(0x9000L, gpaOf(NIC, 0x3000));
    }

    @Test
    void waitDescriptorWritesItsStatusAndSignalsCompletion() {
        vtd.enableQueue(0);
        vtd.unit.registers().write(IEDATA, 4, 0x55);
        vtd.unit.registers().write(IEADDR, 4, 0xFEE0_1000L);
        vtd.unit.registers().write(IECTL, 4, 0);
        final long statusGpa = 0x8000;
        vtd.queue(VtdFixture.waitWithStatus(statusGpa, 0xC0FFEE, true));
        assertEquals(0xC0FFEE, vtd.memory.getInt(statusGpa));
        assertEquals(ICS_IWC, (int) vtd.unit.registers().read(ICS, 4));
        assertEquals(1, vtd.events.size());
        assertEquals(0x55, vtd.events.getFirst().data());
        vtd.queue(VtdFixture.waitWithStatus(statusGpa, 2, true));
        assertEquals(1, vtd.events.size(), "IWC still set: no second event");
        vtd.unit.registers().write(ICS, 4, ICS_IWC);
        assertEquals(0, vtd.unit.registers().read(ICS, 4));
        assertEquals(2, vtd.unit.count(IommuCounter.WAITS));
    }

    @Test
    void queueWrapsAroundItsEnd() {
        vtd.enableQueue(0);
        for (int i = 0; i < 300; i++) {
            vtd.queue(VtdFixture.iotlbGlobal());
        }
        assertEquals(300 % 256, vtd.queueHead());
        assertEquals(300, vtd.unit.count(IommuCounter.IOTLB_INVALIDATIONS));
        assertEquals(0, vtd.faultStatus() & FSTS_IQE);
    }

    @Test
    void unknownDescriptorTypeStopsTheQueueWithIqeUntilCleared() {
        vtd.attach(NIC, 1, 4);
        final long leaf = vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        vtd.enableQueue(0);
        gpaOf(NIC, 0x1000);
        vtd.memory.putLong(leaf, 0x6000 | 3);
        final long[] global = VtdFixture.iotlbGlobal();
        vtd.queue(0xF, 0, global[0], global[1]);
        assertEquals(FSTS_IQE, vtd.faultStatus() & FSTS_IQE);
        assertEquals(0, vtd.queueHead(), "IQH stays on the bad descriptor");
        assertEquals(0x5000L, gpaOf(NIC, 0x1000), "nothing behind it ran");
        vtd.put128(vtd.unit.registers().read(IQA, 8) & ~0xFFFL, 2 | 1 << 4, 0);
        vtd.unit.registers().write(FSTS, 4, FSTS_IQE);
        assertEquals(2, vtd.queueHead(), "clearing IQE resumes the queue");
        assertEquals(0x6000L, gpaOf(NIC, 0x1000));
        assertEquals(1, vtd.unit.count(IommuCounter.QUEUE_ERRORS));
    }

    @Test
    void registerInvalidationIsRefusedWhileQueuedInvalidationIsOn() {
        vtd.enableQueue(0);
        vtd.unit.registers().write(CCMD, 8, 1L << 63 | 1L << 61);
        assertEquals(0, vtd.unit.registers().read(CCMD, 8) >>> 59 & 3);
        assertEquals(1, vtd.unit.count(IommuCounter.REGISTER_MISUSE));
    }

    @Test
    void deviceIotlbInvalidationIsAcceptedAndCounted() {
        vtd.enableQueue(0);
        vtd.queue(3 | (long) NIC << 32, 0x1000);
        assertEquals(1, vtd.unit.count(IommuCounter.DEVICE_IOTLB_INVALIDATIONS));
        assertEquals(0, vtd.faultStatus() & FSTS_IQE);
    }
}

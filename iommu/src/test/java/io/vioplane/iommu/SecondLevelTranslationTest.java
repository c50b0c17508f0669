package io.vioplane.iommu;

import io.vioplane.iommu.testkit.VtdFixture;
import io.vioplane.platform.memory.AccessMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SecondLevelTranslationTest {
    private static final int NIC = SourceId.of(0, 3, 0);
    private static final int DISK = SourceId.of(0, 4, 0);
    private final VtdFixture vtd = new VtdFixture();

    @AfterEach
    void close() {
        vtd.close();
    }

    private FaultReason faultOf(final int sourceId, final long iova, final AccessMode mode) {
        return assertThrows(DmaFault.class, () -> vtd.unit.translate(sourceId, iova, mode)).reason();
    }

    @Test
    void translatesA4KiBPageThroughFourLevels() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x7_1234_5000L, 0x20_3000L);
        vtd.enableTranslation();
        final IotlbEntry entry = vtd.unit.translate(NIC, 0x7_1234_5678L, AccessMode.READ_WRITE);
        assertEquals(12, entry.pageShift());
        assertEquals(0x20_3678L, entry.gpaOf(0x7_1234_5678L));
        assertEquals(1, entry.domainId());
    }

    @Test
    void translatesA4KiBPageThroughThreeLevels() {
        vtd.attach(NIC, 2, 3);
        vtd.map(NIC, 0x40_0000_1000L, 0x30_0000L);
        vtd.enableTranslation();
        assertEquals(0x30_0010L, vtd.unit.translate(NIC, 0x40_0000_1010L, AccessMode.READ).gpaOf(0x40_0000_1010L));
    }

    @Test
    void translatesA2MiBPage() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x4000_0000L, 0x200_0000L, 21, IotlbEntry.READ | IotlbEntry.WRITE);
        vtd.enableTranslation();
        final IotlbEntry entry = vtd.unit.translate(NIC, 0x401F_FFF0L, AccessMode.WRITE);
        assertEquals(21, entry.pageShift());
        assertEquals(0x21F_FFF0L, entry.gpaOf(0x401F_FFF0L));
    }

    @Test
    void translatesA1GiBPage() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x80_0000_0000L, 0, 30, IotlbEntry.READ);
        vtd.enableTranslation();
        final IotlbEntry entry = vtd.unit.translate(NIC, 0x80_0123_4567L, AccessMode.READ);
        assertEquals(30, entry.pageShift());
        assertEquals(0x123_4567L, entry.gpaOf(0x80_0123_4567L));
    }

    @Test
    void refusesAWriteThroughAReadOnlyPageWithFaultReason5() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000, 12, IotlbEntry.READ);
        vtd.enableTranslation();
        assertEquals(0x5000L, vtd.unit.translate(NIC, 0x1000, AccessMode.READ).gpaOf(0x1000));
        assertEquals(FaultReason.WRITE_DENIED, faultOf(NIC, 0x1000, AccessMode.WRITE));
        assertEquals(5, vtd.faultReasonAt(0));
        assertEquals(0x1000L, vtd.faultRecordLow(0));
        assertEquals(NIC, (int) vtd.faultRecordHigh(0) & 0xFFFF);
        assertEquals(0, vtd.faultRecordHigh(0) >>> 62 & 1, "T = 0 for a write");
    }

    @Test
    void refusesAReadThroughAWriteOnlyPageWithFaultReason6() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000, 12, IotlbEntry.WRITE);
        vtd.enableTranslation();
        assertEquals(FaultReason.READ_DENIED, faultOf(NIC, 0x1000, AccessMode.READ));
        assertEquals(1, vtd.faultRecordHigh(0) >>> 62 & 1, "T = 1 for a read");
    }

    @Test
    void permissionsAreTheAndOfEveryLevel() {
        final long top = vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.memory.putLong(top, vtd.memory.getLong(top) & ~2L);
        vtd.enableTranslation();
        assertEquals(IotlbEntry.READ, vtd.unit.translate(NIC, 0x1000, AccessMode.READ).permissions());
        assertEquals(FaultReason.WRITE_DENIED, faultOf(NIC, 0x1000, AccessMode.WRITE));
    }

    @Test
    void anUnmappedIovaFaultsAsReadOrWriteDenied() {
        vtd.attach(NIC, 1, 4);
        vtd.enableTranslation();
        assertEquals(FaultReason.READ_DENIED, faultOf(NIC, 0x9000, AccessMode.READ));
        assertEquals(FaultReason.WRITE_DENIED, faultOf(NIC, 0x9000, AccessMode.WRITE));
    }

    @Test
    void passThroughContextMapsIovaToTheSameGpa() {
        vtd.passThrough(NIC, 7);
        vtd.enableTranslation();
        final IotlbEntry entry = vtd.unit.translate(NIC, 0x12_3456L, AccessMode.READ_WRITE);
        assertEquals(0x12_3456L, entry.gpaOf(0x12_3456L));
    }

    @Test
    void rootEntryNotPresentIsFaultReason1() {
        vtd.enableTranslation();
        assertEquals(FaultReason.ROOT_ENTRY_NOT_PRESENT, faultOf(SourceId.of(5, 0, 0), 0, AccessMode.READ));
        assertEquals(1, vtd.faultReasonAt(0));
    }

    @Test
    void contextEntryNotPresentIsFaultReason2() {
        vtd.attach(NIC, 1, 4);
        vtd.enableTranslation();
        assertEquals(FaultReason.CONTEXT_ENTRY_NOT_PRESENT, faultOf(DISK, 0, AccessMode.READ));
    }

    @Test
    void fourLevelTablesOnA39BitUnitAreFaultReason3() {
        try (VtdFixture narrow = new VtdFixture(new VtdConfig(39, 4))) {
            narrow.attach(NIC, 1, 4);
            narrow.enableTranslation();
            assertEquals(FaultReason.CONTEXT_ENTRY_INVALID,
                    assertThrows(DmaFault.class, () -> narrow.unit.translate(NIC, 0, AccessMode.READ)).reason());
        }
    }

    @Test
    void reservedTranslationTypeIsFaultReason3() {
        vtd.put128(vtd.contextEntryGpa(NIC), 3 << 2 | 1, 1 << 8 | 2);
        vtd.enableTranslation();
        assertEquals(FaultReason.CONTEXT_ENTRY_INVALID, faultOf(NIC, 0, AccessMode.READ));
    }

    @Test
    void deviceTlbTranslationTypeTranslatesLikeUntranslatedWhenTheUnitOffersDeviceTlbs() {
        try (VtdFixture linuxLike = new VtdFixture(VtdConfig.qemuDeviceIotlb())) {
            final long secondLevel = linuxLike.attach(NIC, 7, 3);
            final long entry = linuxLike.contextEntryGpa(NIC);
            linuxLike.put128(entry, secondLevel | 1 << 2 | 1, 7 << 8 | 1);
            linuxLike.map(NIC, 0xFFFF_F000L, 0x20_5000L);
            linuxLike.enableTranslation();
            assertEquals(0x20_5123L, linuxLike.unit.translate(NIC, 0xFFFF_F123L, AccessMode.WRITE).gpaOf(0xFFFF_F123L));
            assertEquals(1L << 2, VtdConfig.qemuDeviceIotlb().extendedCapability() & 1L << 2, "ECAP.DT");
            assertEquals(0, VtdConfig.standard().extendedCapability() & 1L << 2, "no ECAP.DT by default");
        }
    }

    @Test
    void iovaBeyondTheThreeLevelWidthIsFaultReason4() {
        vtd.attach(NIC, 1, 3);
        vtd.enableTranslation();
        assertEquals(FaultReason.ADDRESS_BEYOND_MGAW, faultOf(NIC, 1L << 39, AccessMode.READ));
    }

    @Test
    void devicesOfOneDomainShareItsIotlbEntries() {
        vtd.attach(NIC, 9, 4);
        vtd.attachLike(DISK, NIC);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        vtd.unit.translate(NIC, 0x1000, AccessMode.READ);
        final long misses = vtd.unit.count(IommuCounter.IOTLB_MISSES);
        assertEquals(0x5000L, vtd.unit.translate(DISK, 0x1000, AccessMode.READ).gpaBase());
        assertEquals(misses, vtd.unit.count(IommuCounter.IOTLB_MISSES), "the second device hit the domain's entry");
    }

    @Test
    void faultProcessingDisableCountsWithoutRecording() {
        vtd.attach(NIC, 1, 4);
        final long entry = vtd.contextEntryGpa(NIC);
        vtd.memory.putLong(entry, vtd.memory.getLong(entry) | 2);
        vtd.enableTranslation();
        assertEquals(FaultReason.READ_DENIED, faultOf(NIC, 0x1000, AccessMode.READ));
        assertEquals(0, vtd.faultRecordHigh(0) >>> 63);
        assertEquals(1, vtd.unit.count(IommuCounter.FAULTS_SUPPRESSED));
        assertEquals(1, vtd.unit.faults(FaultReason.READ_DENIED));
    }
}

package io.vioplane.iommu;

import io.vioplane.iommu.testkit.VtdFixture;
import io.vioplane.platform.irq.MsiMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.vioplane.iommu.testkit.VtdFixture.irteHigh;
import static io.vioplane.iommu.testkit.VtdFixture.remappable;
import static io.vioplane.iommu.testkit.VtdFixture.remappedIrteLow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InterruptRemappingTest {
    private static final int NIC = SourceId.of(0, 3, 0);
    private final VtdFixture vtd = new VtdFixture();
    private final Recorder delivery = new Recorder();

    @AfterEach
    void close() {
        vtd.close();
    }

    static final class Recorder implements InterruptDelivery {
        final List<InterruptRoute> delivered = new ArrayList<>();
        final List<int[]> notifications = new ArrayList<>();

        @Override
        public void deliver(final InterruptRoute route) {
            delivered.add(route);
        }

        @Override
        public void notifyPosted(final int notificationVector, final int destination) {
            notifications.add(new int[] {notificationVector, destination});
        }
    }

    private FaultReason faultOf(final int sourceId, final MsiMessage message) {
        return assertThrows(DmaFault.class, () -> vtd.unit.signalInterrupt(sourceId, message, delivery)).reason();
    }

    @Test
    void remapsThroughTheEntryTheHandleNames() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.put128(table + 16 * 5, remappedIrteLow(0x41, 3) | 1 << 4 | 1 << 5, irteHigh(NIC, 0, 1));
        final InterruptRoute route = vtd.unit.signalInterrupt(NIC, remappable(5), delivery);
        assertEquals(new InterruptRoute.Remapped(0x41, 3, 1, false, true, false), route);
        assertEquals(List.of(route), delivery.delivered);
    }

    @Test
    void handleBit15IsAddressBit2() {
        final long table = vtd.enableInterruptRemapping(15, true);
        vtd.put128(table + 16L * 0x8001, 1 | 0x30L << 16 | 0x1234_5678L << 32, 0);
        final InterruptRoute route = vtd.unit.signalInterrupt(NIC, remappable(0x8001), delivery);
        assertEquals(new InterruptRoute.Remapped(0x30, 0x1234_5678, 0, false, false, false), route);
    }

    @Test
    void aSubhandleIsAddedToTheHandle() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.put128(table + 16 * 12, remappedIrteLow(0x50, 1), 0);
        assertEquals(0x50, ((InterruptRoute.Remapped) vtd.unit.signalInterrupt(NIC, remappable(10, 2), delivery))
                .vector());
    }

    @Test
    void reservedDataBitsWithSubhandleAreFault0x20() {
        vtd.enableInterruptRemapping(7, false);
        assertEquals(FaultReason.IR_REQUEST_RESERVED, faultOf(NIC, remappable(1, 0x1_0000)));
    }

    @Test
    void anIndexPastTheTableIsFault0x21WithTheIndexRecorded() {
        vtd.enableInterruptRemapping(7, false);
        assertEquals(FaultReason.IR_INDEX_OVER_MAX, faultOf(NIC, remappable(256)));
        assertEquals(0x21, vtd.faultReasonAt(0));
        assertEquals(256L << 48, vtd.faultRecordLow(0));
    }

    @Test
    void aNotPresentEntryIsFault0x22() {
        vtd.enableInterruptRemapping(7, false);
        assertEquals(FaultReason.IR_ENTRY_NOT_PRESENT, faultOf(NIC, remappable(3)));
    }

    @Test
    void reservedBitsInAnEntryAreFault0x24() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.put128(table, remappedIrteLow(0x40, 1) | 1L << 33, 0);
        assertEquals(FaultReason.IR_ENTRY_RESERVED, faultOf(NIC, remappable(0)), "xAPIC destination bit 33");
        vtd.put128(table + 16, remappedIrteLow(0x40, 1), 1L << 40);
        assertEquals(FaultReason.IR_ENTRY_RESERVED, faultOf(NIC, remappable(1)));
    }

    @Test
    void aForgedSourceIdIsFault0x26() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.put128(table, remappedIrteLow(0x40, 1), irteHigh(NIC, 0, 1));
        assertEquals(FaultReason.IR_SOURCE_ID_INVALID, faultOf(SourceId.of(0, 4, 0), remappable(0)));
        assertEquals(SourceId.of(0, 4, 0), (int) vtd.faultRecordHigh(0) & 0xFFFF);
        assertTrue(delivery.delivered.isEmpty());
    }

    @Test
    void sourceQualifierIgnoresFunctionBits() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.put128(table, remappedIrteLow(0x40, 1), irteHigh(NIC, 3, 1));
        vtd.unit.signalInterrupt(SourceId.of(0, 3, 7), remappable(0), delivery);
        vtd.put128(table + 16, remappedIrteLow(0x40, 1), irteHigh(NIC, 1, 1));
        vtd.unit.signalInterrupt(SourceId.of(0, 3, 4), remappable(1), delivery);
        assertEquals(FaultReason.IR_SOURCE_ID_INVALID, faultOf(SourceId.of(0, 3, 2), remappable(1)));
    }

    @Test
    void busRangeValidationAdmitsOnlyThoseBuses() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.put128(table, remappedIrteLow(0x40, 1), irteHigh(2 << 8 | 4, 0, 2));
        vtd.unit.signalInterrupt(SourceId.of(3, 0, 0), remappable(0), delivery);
        assertEquals(FaultReason.IR_SOURCE_ID_INVALID, faultOf(SourceId.of(5, 0, 0), remappable(0)));
    }

    @Test
    void compatibilityFormatIsBlockedUnlessCfiIsSet() {
        vtd.enableInterruptRemapping(7, false);
        final MsiMessage compatible = MsiMessage.fixed(1, 0x30);
        assertEquals(FaultReason.IR_COMPATIBILITY_BLOCKED, faultOf(NIC, compatible));
        vtd.command(VtdRegisterFile.GCMD_CFI, true);
        assertEquals(new InterruptRoute.Unmapped(compatible), vtd.unit.signalInterrupt(NIC, compatible, delivery));
    }

    @Test
    void withRemappingOffInterruptsPassUnchanged() {
        final MsiMessage message = MsiMessage.fixed(2, 0x31);
        assertInstanceOf(InterruptRoute.Unmapped.class, vtd.unit.signalInterrupt(NIC, message, delivery));
    }

    @Test
    void aChangedEntryIsUsedOnlyAfterInterruptEntryCacheInvalidation() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.enableQueue(0);
        vtd.put128(table + 16 * 9, remappedIrteLow(0x40, 1), 0);
        vtd.unit.signalInterrupt(NIC, remappable(9), delivery);
        vtd.put128(table + 16 * 9, remappedIrteLow(0x60, 1), 0);
        assertEquals(0x40, ((InterruptRoute.Remapped) vtd.unit.signalInterrupt(NIC, remappable(9), delivery))
                .vector());
        vtd.queue(4 | 1 << 4 | 2L << 27 | 12L << 32, 0);
        assertEquals(0x40, ((InterruptRoute.Remapped) vtd.unit.signalInterrupt(NIC, remappable(9), delivery))
                .vector(), "index 12 with IM = 2 covers 12..15");
        vtd.queue(4 | 1 << 4 | 2L << 27 | 8L << 32, 0);
        assertEquals(0x60, ((InterruptRoute.Remapped) vtd.unit.signalInterrupt(NIC, remappable(9), delivery))
                .vector());
    }

    @Test
    void faultProcessingDisableInTheEntrySuppressesItsFaults() {
        final long table = vtd.enableInterruptRemapping(7, false);
        vtd.put128(table, remappedIrteLow(0x40, 1) | 2, irteHigh(NIC, 0, 1));
        assertEquals(FaultReason.IR_SOURCE_ID_INVALID, faultOf(SourceId.of(1, 0, 0), remappable(0)));
        assertEquals(0, vtd.faultRecordHigh(0) >>> 63);
        assertEquals(1, vtd.unit.count(IommuCounter.FAULTS_SUPPRESSED));
    }
}

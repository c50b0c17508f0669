package io.vioplane.iommu;

import io.vioplane.iommu.testkit.VtdFixture;
import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.memory.AccessMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.vioplane.iommu.VtdRegisterFile.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VtdRegisterFileTest {
    private static final int NIC = SourceId.of(0, 3, 0);
    private final VtdFixture vtd = new VtdFixture();
    private final VtdRegisterFile registers = vtd.unit.registers();

    @AfterEach
    void close() {
        vtd.close();
    }

    private void fault(final long iova) {
        assertThrows(DmaFault.class, () -> vtd.unit.translate(NIC, iova, AccessMode.READ));
    }

    @Test
    void capabilitiesDescribeTheModel() {
        assertEquals(0x10, registers.read(VER, 4));
        final long cap = registers.read(CAP, 8);
        assertEquals(0b110, cap >>> 8 & 0x1F, "SAGAW: 39- and 48-bit");
        assertEquals(47, cap >>> 16 & 0x3F, "MGAW - 1");
        assertEquals(0x22, cap >>> 24 & 0x3FF, "FRO in 16-byte units");
        assertEquals(3, cap >>> 40 & 0xFF, "NFR - 1");
        assertEquals(3, cap >>> 34 & 3, "2 MiB and 1 GiB pages");
        final long ecap = registers.read(ECAP, 8);
        assertEquals(0xF, ecap >>> 8 & 0x3FF, "IRO in 16-byte units");
        assertTrue((ecap & 0b1010) == 0b1010, "QI and IR");
        assertEquals(cap >>> 32, registers.read(CAP + 4, 4), "64-bit registers read in halves too");
    }

    @Test
    void globalCommandsShowInGlobalStatus() {
        vtd.enableTranslation();
        assertEquals(GCMD_TE | GCMD_SRTP, vtd.status());
        assertTrue(vtd.unit.translationEnabled());
        vtd.command(GCMD_TE, false);
        assertFalse(vtd.unit.translationEnabled());
        assertEquals(0, registers.read(GCMD, 4), "GCMD reads as 0");
    }

    @Test
    void refusesTwoGlobalCommandsInOneWrite() {
        registers.write(RTADDR, 8, vtd.rootTableGpa);
        registers.write(GCMD, 4, GCMD_SRTP | GCMD_TE);
        assertEquals(0, vtd.status());
        assertFalse(vtd.unit.translationEnabled());
        assertEquals(1, vtd.unit.count(IommuCounter.REGISTER_MISUSE));
        assertTrue(vtd.logLines.getFirst().contains("several VT-d global commands"), vtd.logLines.toString());
    }

    @Test
    void rootTableAddressKeepsOnlyAddressBits() {
        registers.write(RTADDR, 8, 0xFFFF_FFFF_FFFF_FFFFL);
        assertEquals(0x0000_FFFF_FFFF_F000L, registers.read(RTADDR, 8));
        registers.write(RTADDR, 4, 0x1234_5000L);
        assertEquals(0x0000_FFFF_1234_5000L, registers.read(RTADDR, 8), "a 4-byte write replaces the low half");
    }

    @Test
    void faultsFillTheRecordingRegistersInTurnThenOverflow() {
        vtd.attach(NIC, 1, 4);
        vtd.enableTranslation();
        for (int i = 0; i < 4; i++) {
            fault(0x1000L * (i + 1));
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(6, vtd.faultReasonAt(i));
            assertEquals(0x1000L * (i + 1), vtd.faultRecordLow(i));
        }
        assertEquals(FSTS_PPF, vtd.faultStatus() & (FSTS_PPF | FSTS_PFO));
        assertEquals(0, vtd.faultStatus() >>> 8 & 0xFF, "FRI: the first pending fault is in register 0");
        fault(0x9000);
        assertEquals(FSTS_PFO, vtd.faultStatus() & FSTS_PFO);
        assertEquals(1, vtd.unit.count(IommuCounter.FAULTS_OVERFLOWED));
        assertEquals(0x1000L, vtd.faultRecordLow(0), "the overflowing fault overwrote nothing");
    }

    @Test
    void clearingFaultBitsAndOverflowServicesTheFaults() {
        vtd.attach(NIC, 1, 4);
        vtd.enableTranslation();
        fault(0x1000);
        registers.write(FRCD + 12, 4, 1L << 31);
        assertEquals(0, vtd.faultRecordHigh(0) >>> 63, "F is write-1-to-clear, also through the upper half");
        assertEquals(0, vtd.faultStatus() & FSTS_PPF);
        fault(0x2000);
        assertEquals(1, vtd.faultStatus() >>> 8 & 0xFF, "FRI: the new first pending fault is in register 1");
        assertEquals(0x2000L, vtd.faultRecordLow(1));
    }

    @Test
    void aFaultEventIsSentOncePerServicedBatch() {
        vtd.attach(NIC, 1, 4);
        vtd.enableTranslation();
        vtd.unmaskFaultEvents();
        fault(0x1000);
        fault(0x2000);
        assertEquals(1, vtd.events.size(), "the second fault found one pending");
        assertEquals(new MsiMessage(0xFEE0_0000L, 0x4021), vtd.events.getFirst());
        registers.write(FRCD + 8, 8, 1L << 63);
        registers.write(FRCD + 16 + 8, 8, 1L << 63);
        fault(0x3000);
        assertEquals(2, vtd.events.size());
    }

    @Test
    void aMaskedFaultEventStaysPendingUntilUnmasked() {
        vtd.attach(NIC, 1, 4);
        vtd.enableTranslation();
        fault(0x1000);
        assertTrue(vtd.events.isEmpty(), "FECTL.IM is set at reset");
        assertEquals(CTL_IM | CTL_IP, (int) registers.read(FECTL, 4));
        vtd.unmaskFaultEvents();
        assertEquals(1, vtd.events.size());
        assertEquals(0, registers.read(FECTL, 4));
    }

    @Test
    void unknownRegistersReadZeroAndCountWrites() {
        assertEquals(0, registers.read(0x60, 4));
        registers.write(0x60, 4, 1);
        registers.write(0x21, 4, 1);
        registers.write(CAP, 2, 1);
        assertEquals(3, vtd.unit.count(IommuCounter.REGISTER_MISUSE));
        assertEquals(0, registers.read(registers.sizeBytes(), 4));
    }

    @Test
    void anOffsetNearIntegerMaxDoesNotWrapTheBoundsCheck() {
        registers.write(Integer.MAX_VALUE - 3, 4, -1L);
        assertEquals(0, registers.read(Integer.MAX_VALUE - 7, 8));
        assertEquals(2, vtd.unit.count(IommuCounter.REGISTER_MISUSE));
    }

    @Test
    void registerBasedInvalidationReportsTheGranularityItPerformed() {
        registers.write(CCMD, 8, 1L << 63 | 1L << 61);
        assertEquals(1L << 61 | 1L << 59, registers.read(CCMD, 8), "ICC clear, CAIG = CIRG = global");
        registers.write(IVA, 8, 0x5000 | 2);
        registers.write(IOTLB, 8, 1L << 63 | 3L << 60 | 7L << 32);
        assertEquals(3L << 57 | 7L << 32 | 3L << 60, registers.read(IOTLB, 8), "IVT clear, IAIG = page");
        registers.write(IOTLB, 8, 1L << 63);
        assertEquals(0, registers.read(IOTLB, 8) >>> 57 & 3, "reserved granularity: IAIG = 0");
    }
}

package io.vioplane.iommu;

import io.vioplane.iommu.testkit.HostileVtd;
import io.vioplane.iommu.testkit.VtdFixture;
import io.vioplane.platform.memory.MemoryAccessException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs every attack of {@link HostileVtd}: each gets its spec fault or counted error, nothing else. */
class HostileVtdTest {
    static List<HostileVtd.Attack> attacks() {
        return HostileVtd.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void unitAnswersTheAttack(final HostileVtd.Attack attack) {
        try (VtdFixture vtd = new VtdFixture()) {
            try {
                attack.run().accept(vtd);
            } catch (DmaFault | MemoryAccessException refused) {
                // the device's access was refused; what the unit recorded is checked below
            }
            final long faults = EnumSet.allOf(FaultReason.class).stream().mapToLong(vtd.unit::faults).sum();
            switch (attack.expected()) {
                case HostileVtd.Fault fault -> {
                    assertEquals(1, vtd.unit.faults(fault.reason()), "counted");
                    assertEquals(1, faults, "no other fault");
                    assertEquals(fault.reason().code(), vtd.faultReasonAt(0), "recorded");
                    assertEquals(HostileVtd.DEVICE, (int) vtd.faultRecordHigh(0) & 0xFFFF, "with the requester");
                }
                case HostileVtd.Counted counted -> {
                    assertTrue(vtd.unit.count(counted.counter()) >= 1, counted.counter() + " counted");
                    if (counted.counter() == IommuCounter.QUEUE_ERRORS) {
                        assertEquals(VtdRegisterFile.FSTS_IQE, vtd.faultStatus() & VtdRegisterFile.FSTS_IQE);
                    }
                    if (counted.counter() != IommuCounter.FAULTS_OVERFLOWED) {
                        assertEquals(0, faults, "no translation fault");
                    }
                }
                case HostileVtd.Contained contained -> assertEquals(0, faults, "no fault");
            }
        }
    }
}

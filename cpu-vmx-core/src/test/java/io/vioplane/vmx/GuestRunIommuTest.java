package io.vioplane.vmx;

import io.vioplane.iommu.VtdConfig;
import io.vioplane.iommu.VtdRegisterFile;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.loader.AcpiTables;
import io.vioplane.vmx.machine.DebugDevice;
import io.vioplane.vmx.machine.RunOutcome;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.machine.VtdMmioDevice;
import io.vioplane.vmx.testkit.GuestImages;
import io.vioplane.vmx.testkit.ScriptedVcpu;
import io.vioplane.vmx.vcpu.Vcpu;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GuestRun} with an IOMMU: the loader writes RSDP, XSDT and DMAR, and a guest that follows them (here a
 * scripted vCPU playing the guest) reaches the unit's registers at the DRHD's register base.
 */
class GuestRunIommuTest {
    private static final long MEMORY_BYTES = 16L << 20;
    private static final int ACPI_BYTES = 0x100;

    /** Plays the scripted guest and keeps a copy of the ACPI area as the vCPU would first see it. */
    private static final class WatchingBackend implements VcpuBackend {
        private final ScriptedVcpu vcpu;
        private final byte[] acpi = new byte[ACPI_BYTES];

        WatchingBackend(final ScriptedVcpu vcpu) {
            this.vcpu = vcpu;
        }

        @Override
        public Vcpu createVcpu(final GuestMemory memory) {
            for (int i = 0; i < ACPI_BYTES; i++) {
                acpi[i] = memory.getByte(AcpiTables.RSDP_GPA + i);
            }
            return vcpu.createVcpu(memory);
        }

        @Override
        public int guestRing() {
            return vcpu.guestRing();
        }

        @Override
        public void close() {
            vcpu.close();
        }
    }

    private static RunOutcome run(final VtdConfig iommu, final WatchingBackend backend) {
        final List<String> logLines = new ArrayList<>();
        final GuestRun run = new GuestRun(MEMORY_BYTES, Counters.inMemory(128), line -> { },
                ErrorLog.printingTo(logLines::add), Duration.ofSeconds(30), iommu);
        final Path image = GuestImages.require("hello");
        return run.run(image, backend);
    }

    private static List<VmExit> guestReadsVerAndCap(final long base) {
        return List.of(VmExit.mmio(base + VtdRegisterFile.VER, 4, false, 0),
                VmExit.mmio(base + VtdRegisterFile.CAP, 8, false, 0),
                VmExit.mmio(DebugDevice.GPA + DebugDevice.EXIT, 4, true, 0));
    }

    @Test
    void theDmarTableLeadsTheGuestToTheUnitsRegisters() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(guestReadsVerAndCap(VtdMmioDevice.BASE_GPA));
        final WatchingBackend backend = new WatchingBackend(vcpu);
        final RunOutcome outcome = run(VtdConfig.standard(), backend);
        assertEquals(RunOutcome.Ending.GUEST_EXIT, outcome.ending(), outcome.message());
        final ByteBuffer acpi = ByteBuffer.wrap(backend.acpi).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("RSD PTR ", new String(backend.acpi, 0, 8, StandardCharsets.US_ASCII));
        final int xsdt = (int) (acpi.getLong(24) - AcpiTables.RSDP_GPA);
        assertEquals("XSDT", new String(backend.acpi, xsdt, 4, StandardCharsets.US_ASCII));
        final int dmar = (int) (acpi.getLong(xsdt + 36) - AcpiTables.RSDP_GPA);
        assertEquals("DMAR", new String(backend.acpi, dmar, 4, StandardCharsets.US_ASCII));
        assertEquals(47, backend.acpi[dmar + 36], "HAW - 1 = MGAW - 1");
        assertEquals(1, backend.acpi[dmar + 37] & 1, "INTR_REMAP: ECAP.IR is set");
        assertEquals(VtdMmioDevice.BASE_GPA, acpi.getLong(dmar + 48 + 8), "the DRHD's register base");
        assertEquals(List.of((long) VtdConfig.VERSION, VtdConfig.standard().capability()), vcpu.completedReads());
    }

    @Test
    void withoutAnIommuThereAreNoTablesAndNoRegisters() {
        final ScriptedVcpu vcpu = new ScriptedVcpu(guestReadsVerAndCap(VtdMmioDevice.BASE_GPA));
        final WatchingBackend backend = new WatchingBackend(vcpu);
        final RunOutcome outcome = run(null, backend);
        assertEquals(RunOutcome.Ending.FAULT, outcome.ending());
        assertTrue(outcome.message().contains("unclaimed-mmio") && outcome.message().contains("0xfed90000"),
                outcome.message());
        assertEquals(0, ByteBuffer.wrap(backend.acpi).getLong(0), "no RSDP");
    }
}

package io.vioplane.vmx.kvm;

import io.vioplane.vmx.exit.ExitQualification;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The KVM-exit to VT-x-exit table, over kvm_run pages written the way the kernel writes them. */
class KvmExitDecoderTest {
    private final MemorySegment page = Arena.ofAuto().allocate(4096, 4096);
    private final KvmRunPage run = new KvmRunPage(page);

    private void exitReason(final int kvmReason) {
        page.set(ValueLayout.JAVA_INT, 8, kvmReason);
    }

    @Test
    void outToAPortIsAnIoInstructionExitWithTheSdmQualification() {
        exitReason(KvmRunPage.EXIT_IO);
        page.set(ValueLayout.JAVA_BYTE, 32, (byte) 1);
        page.set(ValueLayout.JAVA_BYTE, 33, (byte) 2);
        page.set(ValueLayout.JAVA_SHORT, 34, (short) 0xCFC);
        page.set(ValueLayout.JAVA_INT, 36, 1);
        page.set(ValueLayout.JAVA_LONG, 40, 4096 - 64);
        page.set(ValueLayout.JAVA_SHORT, 4096 - 64, (short) 0xBEEF);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertEquals(30, exit.reason());
        assertEquals(0xCFC, ExitQualification.ioPort(exit.qualification()));
        assertEquals(2, ExitQualification.ioSizeBytes(exit.qualification()));
        assertFalse(ExitQualification.ioIn(exit.qualification()));
        assertEquals((0xCFCL << 16) | 1, exit.qualification(), "Table 28-5: size-1 in bits 2:0, port in 31:16");
        assertTrue(exit.accessWrite());
        assertEquals(0xBEEF, exit.accessValue());
    }

    @Test
    void mmioReadIsAnEptViolationWithTheReadBitAndTheGpa() {
        exitReason(KvmRunPage.EXIT_MMIO);
        page.set(ValueLayout.JAVA_LONG, 32, 0xD000_0028L);
        page.set(ValueLayout.JAVA_INT, 48, 4);
        page.set(ValueLayout.JAVA_BYTE, 52, (byte) 0);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertEquals(48, exit.reason());
        assertEquals(0xD000_0028L, exit.gpa());
        assertEquals(ExitQualification.EPT_READ, exit.qualification(), "Table 28-7: bit 0 read, no EPT permissions");
        assertEquals(0, ExitQualification.eptPermissions(exit.qualification()));
        assertFalse(exit.accessWrite());
    }

    @Test
    void mmioWriteCarriesItsValueLittleEndian() {
        exitReason(KvmRunPage.EXIT_MMIO);
        page.set(ValueLayout.JAVA_LONG, 32, 0xC000_0000L);
        page.set(ValueLayout.JAVA_INT, 40, 0xDEADBEEF);
        page.set(ValueLayout.JAVA_INT, 48, 4);
        page.set(ValueLayout.JAVA_BYTE, 52, (byte) 1);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertTrue(ExitQualification.eptWrite(exit.qualification()));
        assertEquals(0xDEADBEEFL, exit.accessValue());
    }

    @Test
    void theSimpleExitsMapToTheirVmxReasons() {
        final int[][] table = {
            {KvmRunPage.EXIT_HLT, ExitReason.HLT},
            {KvmRunPage.EXIT_SHUTDOWN, ExitReason.TRIPLE_FAULT},
            {KvmRunPage.EXIT_INTR, ExitReason.EXTERNAL_INTERRUPT},
            {KvmRunPage.EXIT_HYPERCALL, ExitReason.VMCALL},
            {KvmRunPage.EXIT_EXCEPTION, ExitReason.EXCEPTION_OR_NMI},
            {KvmRunPage.EXIT_IRQ_WINDOW_OPEN, ExitReason.INTERRUPT_WINDOW},
        };
        for (int[] row : table) {
            exitReason(row[0]);
            assertEquals(row[1], KvmExitDecoder.decode(run).reason(), "KVM exit " + row[0]);
        }
    }

    @Test
    void failedEntryKeepsTheHardwareReasonWithBit31() {
        exitReason(KvmRunPage.EXIT_FAIL_ENTRY);
        page.set(ValueLayout.JAVA_LONG, 32, ExitReason.ENTRY_FAILURE_BIT | ExitReason.ENTRY_FAILURE_GUEST_STATE);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertTrue(exit.entryFailure());
        assertEquals(33, exit.reason());
    }

    /** kvm_amd reports VMRUN's failed consistency checks as VMEXIT_INVALID (seen nested under QEMU TCG). */
    @Test
    void failedEntryOnSvmIsInvalidGuestStateNotReason65535() {
        exitReason(KvmRunPage.EXIT_FAIL_ENTRY);
        page.set(ValueLayout.JAVA_LONG, 32, 0xFFFF_FFFFL);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertTrue(exit.entryFailure());
        assertEquals(ExitReason.ENTRY_FAILURE_GUEST_STATE, exit.reason());
        assertEquals(0xFFFF_FFFFL, exit.detail());
        page.set(ValueLayout.JAVA_LONG, 32, -1L);
        assertEquals(ExitReason.ENTRY_FAILURE_GUEST_STATE, KvmExitDecoder.decode(run).reason());
    }

    /** VMLAUNCH failing with VM-instruction error 7 (invalid control fields) is no interrupt-window exit. */
    @Test
    void vmInstructionErrorIsAnEntryFailureNotABasicReason() {
        exitReason(KvmRunPage.EXIT_FAIL_ENTRY);
        page.set(ValueLayout.JAVA_LONG, 32, 7);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertTrue(exit.entryFailure());
        assertEquals(ExitReason.ENTRY_FAILURE_GUEST_STATE, exit.reason());
        assertEquals(7, exit.detail());
    }

    @Test
    void internalErrorKeepsKvmsSuberror() {
        exitReason(KvmRunPage.EXIT_INTERNAL_ERROR);
        page.set(ValueLayout.JAVA_INT, 32, 1);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertEquals(ExitReason.KVM_INTERNAL_ERROR, exit.reason());
        assertEquals(1, exit.detail());
    }

    @Test
    void rejectsMmioLengthThatNoInstructionHas() {
        exitReason(KvmRunPage.EXIT_MMIO);
        page.set(ValueLayout.JAVA_INT, 48, 3);
        assertEquals(ExitReason.KVM_INTERNAL_ERROR, KvmExitDecoder.decode(run).reason());
    }

    @Test
    void rejectsIoDataOffsetOutsideThePage() {
        exitReason(KvmRunPage.EXIT_IO);
        page.set(ValueLayout.JAVA_BYTE, 33, (byte) 4);
        page.set(ValueLayout.JAVA_INT, 36, 1);
        page.set(ValueLayout.JAVA_LONG, 40, 4094);
        final VmExit exit = KvmExitDecoder.decode(run);
        assertEquals(ExitReason.KVM_INTERNAL_ERROR, exit.reason());
        assertEquals(KvmExitDecoder.MALFORMED_ACCESS, exit.detail());
    }

    @Test
    void crAccessQualificationRoundTrips() {
        final long qualification = ExitQualification.crAccess(3, ExitQualification.CR_MOV_TO, 7);
        assertEquals(3 | (7 << 8), qualification, "Table 28-3: CR in 3:0, type in 5:4, register in 11:8");
        assertEquals(3, ExitQualification.crNumber(qualification));
        assertEquals(7, ExitQualification.crRegister(qualification));
    }

    @Test
    void requestNumbersMatchTheKernelHeaders() {
        assertEquals(0xAE80L, io.vioplane.platform.sys.Kvm.RUN);
        assertEquals(0x4020AE46L, io.vioplane.platform.sys.Kvm.SET_USER_MEMORY_REGION);
        assertEquals(0x8138AE83L, io.vioplane.platform.sys.Kvm.GET_SREGS);
        assertEquals(0x4090AE82L, io.vioplane.platform.sys.Kvm.SET_REGS);
        assertEquals(0x4040AE79L, io.vioplane.platform.sys.Kvm.IOEVENTFD);
        assertEquals(0xC008AE05L, io.vioplane.platform.sys.Kvm.GET_SUPPORTED_CPUID);
    }
}

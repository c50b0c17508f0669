package io.vioplane.perf.vmx;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bench device's registers and the per-phase deltas it records, driven as the exit_loop guest does. */
class ExitLoopDeviceTest {
    @Test
    void tellsTheGuestRoundsAndWritesAndRecordsCounterDeltasPerPhase() {
        final AtomicLong kvmExits = new AtomicLong(100);
        final AtomicLong kvmMmio = new AtomicLong(50);
        final AtomicLong vmmMmio = new AtomicLong(50);
        final ExitLoopDevice device = new ExitLoopDevice(2, 3, false, kvmExits::get, kvmMmio::get, vmmMmio::get);
        assertEquals(2, device.read(0x00, 4));
        assertEquals(3, device.read(0x04, 4));
        final int roundOneIoEventFd = ExitLoopDevice.PHASE_IOEVENTFD | 1 << 8;
        device.write(0x08, 4, roundOneIoEventFd);
        kvmExits.addAndGet(4);
        kvmMmio.addAndGet(1);
        vmmMmio.addAndGet(1);
        device.write(0x0C, 4, roundOneIoEventFd);
        final long[] result = device.result(1, ExitLoopDevice.PHASE_IOEVENTFD);
        assertEquals(4, result[ExitLoopDevice.KVM_EXITS]);
        assertEquals(1, result[ExitLoopDevice.KVM_MMIO_EXITS]);
        assertEquals(1, result[ExitLoopDevice.VMM_MMIO_EXITS]);
        assertArrayEquals(new long[4], device.result(0, ExitLoopDevice.PHASE_MMIO), "other phases untouched");
    }

    @Test
    void offersTheIrqfdPhaseOnlyWhenTheVmmAnswersKicks() {
        assertEquals(0, new ExitLoopDevice(1, 1, false, () -> 0, () -> 0, () -> 0).read(0x14, 4));
        final ExitLoopDevice withIrqfd = new ExitLoopDevice(1, 1, true, () -> 0, () -> 0, () -> 0);
        assertEquals(ExitLoopDevice.IRQ_VECTOR, withIrqfd.read(0x14, 4));
        withIrqfd.write(0x08, 4, ExitLoopDevice.PHASE_IRQFD);
        withIrqfd.write(0x0C, 4, ExitLoopDevice.PHASE_IRQFD);
        assertEquals(0, withIrqfd.result(0, ExitLoopDevice.PHASE_IRQFD)[ExitLoopDevice.KVM_EXITS]);
    }

    @Test
    void endMarkerForARoundTheDeviceDoesNotHaveIsIgnored() {
        final ExitLoopDevice device = new ExitLoopDevice(1, 1, false, () -> 0, () -> 0, () -> 0);
        device.write(0x0C, 4, 7 << 8);
        device.write(0x0C, 4, 5);
        device.write(0x10, 4, 42);
        assertEquals(42, device.lastValue());
        assertEquals(-1L, device.read(0x20, 4));
    }

    @Test
    void runFiguresDropRoundZeroAndTakeTheMedian() {
        final long[][][] rounds = new long[4][2][4];
        rounds[0][0][ExitLoopDevice.NS] = 1_000_000;
        rounds[1][0][ExitLoopDevice.NS] = 300;
        rounds[2][0][ExitLoopDevice.NS] = 100;
        rounds[3][0][ExitLoopDevice.NS] = 200;
        for (int round = 1; round < 4; round++) {
            rounds[round][0][ExitLoopDevice.KVM_EXITS] = 11;
            rounds[round][0][ExitLoopDevice.VMM_MMIO_EXITS] = 11;
        }
        final ExitLoopComparison.RunFigures figures = ExitLoopComparison.RunFigures.of(rounds, 10);
        assertEquals(20.0, figures.nsPerWrite()[0]);
        assertEquals(1.1, figures.kvmExitsPerWrite()[0], 1e-9);
        assertEquals(1.1, figures.vmmMmioExitsPerWrite()[0], 1e-9);
    }
}

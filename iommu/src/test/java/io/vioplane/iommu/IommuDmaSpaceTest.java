package io.vioplane.iommu;

import io.vioplane.iommu.testkit.VtdFixture;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IommuDmaSpaceTest {
    private static final int NIC = SourceId.of(0, 3, 0);
    private final VtdFixture vtd = new VtdFixture();
    private final DmaSpace nic = vtd.unit.dmaSpace(NIC);

    @AfterEach
    void close() {
        vtd.close();
    }

    @Test
    void withTranslationOffAddressesAreGuestPhysical() {
        nic.putLong(0x3000, 0x1122_3344_5566_7788L);
        assertEquals(0x1122_3344_5566_7788L, vtd.memory.getLong(0x3000));
    }

    @Test
    void typedAccessorsGoThroughTheDevicesTranslation() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0xABC_D000L, 0x5000);
        vtd.enableTranslation();
        nic.putInt(0xABC_D010L, 0xCAFE_F00D);
        assertEquals(0xCAFE_F00D, vtd.memory.getInt(0x5010));
        assertEquals(0xCAFE_F00D, nic.getIntAcquire(0xABC_D010L));
    }

    @Test
    void aRangeOverContiguousPagesIsOneSegment() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.map(NIC, 0x2000, 0x6000);
        vtd.enableTranslation();
        final MemorySegment segment = nic.translate(0x1F00, 0x200, AccessMode.WRITE);
        segment.fill((byte) 7);
        assertEquals(7, vtd.memory.getByte(0x5F00));
        assertEquals(7, vtd.memory.getByte(0x60FF));
    }

    @Test
    void aRangeOverScatteredPagesIsCopiedPageByPage() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x9000);
        vtd.map(NIC, 0x2000, 0x5000);
        vtd.enableTranslation();
        final MemoryAccessException refused = assertThrows(MemoryAccessException.class,
                () -> nic.translate(0x1FF0, 0x20, AccessMode.READ));
        assertEquals(MemoryAccessException.Reason.CROSSES_REGIONS, refused.reason());
        assertFalse(nic.resolve(0x1FF0, 0x20, AccessMode.READ, new DmaRange()));
        final byte[] text = "split across two pages!".getBytes(StandardCharsets.US_ASCII);
        nic.writeBytes(0x1FF8, text);
        assertArrayEquals(Arrays.copyOf(text, 8), vtd.memory.readBytes(0x9FF8, 8));
        assertArrayEquals(Arrays.copyOfRange(text, 8, text.length), vtd.memory.readBytes(0x5000,
                text.length - 8));
        assertArrayEquals(text, nic.readBytes(0x1FF8, text.length));
    }

    @Test
    void aFaultIsADeniedAccessNamingTheFaultAndIsRecorded() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000, 12, IotlbEntry.READ);
        vtd.enableTranslation();
        final MemoryAccessException refused = assertThrows(MemoryAccessException.class,
                () -> nic.putInt(0x1000, 1));
        assertEquals(MemoryAccessException.Reason.DENIED, refused.reason());
        assertTrue(refused.getMessage().contains("write denied"), refused.getMessage());
        assertEquals(5, vtd.faultReasonAt(0));
        assertEquals(0, vtd.memory.getInt(0x5000));
    }

    @Test
    void resolveReportsAFaultWithoutThrowing() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        final DmaRange range = new DmaRange();
        assertTrue(nic.resolve(0x1010, 16, AccessMode.READ, range));
        assertEquals(0x5010L, range.offset() + range.segment().address() - vtd.memory.translate(0, 1,
                AccessMode.READ).address());
        assertFalse(nic.resolve(0x7000, 16, AccessMode.READ, range));
        assertEquals(1, vtd.unit.faults(FaultReason.READ_DENIED));
    }

    @Test
    void aMappingOutsideGuestMemoryIsRefusedAndCounted() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, VtdFixture.MEMORY_BYTES);
        vtd.enableTranslation();
        assertEquals(MemoryAccessException.Reason.OUT_OF_RANGE,
                assertThrows(MemoryAccessException.class, () -> nic.getLong(0x1000)).reason());
        assertFalse(nic.resolve(0x1000, 8, AccessMode.READ, new DmaRange()));
        assertEquals(2, vtd.unit.count(IommuCounter.OUTSIDE_GUEST_MEMORY));
    }

    @Test
    void aWrappingRangeIsRefused() {
        vtd.enableTranslation();
        assertEquals(MemoryAccessException.Reason.OVERFLOW, assertThrows(MemoryAccessException.class,
                () -> nic.translate(-16, 32, AccessMode.READ)).reason());
        assertFalse(nic.resolve(-16, 32, AccessMode.READ, new DmaRange()));
    }

    @Test
    void warmTranslationsCostNoUnitLookupUntilAnInvalidation() {
        vtd.attach(NIC, 1, 4);
        final long leaf = vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        nic.getLong(0x1000);
        final long misses = vtd.unit.count(IommuCounter.IOTLB_MISSES);
        vtd.memory.putLong(leaf, 0x6000 | 3);
        for (int i = 0; i < 100; i++) {
            nic.getLong(0x1000 + 8L * i);
        }
        assertEquals(misses, vtd.unit.count(IommuCounter.IOTLB_MISSES));
        vtd.memory.putLong(0x6000, 42);
        assertEquals(0, nic.getLong(0x1000), "stale until invalidated, also in the per-device cache");
        vtd.unit.registers().write(VtdRegisterFile.IVA, 8, 0x1000);
        vtd.unit.registers().write(VtdRegisterFile.IOTLB, 8, 1L << 63 | 3L << 60 | 1L << 32);
        assertEquals(42, nic.getLong(0x1000));
    }

    @Test
    void turningTranslationOffBypassesTheCache() {
        vtd.attach(NIC, 1, 4);
        vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        vtd.memory.putLong(0x5000, 1);
        vtd.memory.putLong(0x1000, 2);
        assertEquals(1, nic.getLong(0x1000));
        vtd.command(VtdRegisterFile.GCMD_TE, false);
        assertEquals(2, nic.getLong(0x1000));
    }

    @Test
    void aDeviceThreadSeesTheNewMappingOnceTheInvalidationCompleted() throws InterruptedException {
        vtd.attach(NIC, 1, 4);
        final long leaf = vtd.map(NIC, 0x1000, 0x5000);
        vtd.enableTranslation();
        vtd.enableQueue(0);
        vtd.memory.putLong(0x5000, 1);
        vtd.memory.putLong(0x6000, 2);
        final AtomicBoolean invalidated = new AtomicBoolean();
        final AtomicLong staleAfterInvalidation = new AtomicLong();
        final CountDownLatch running = new CountDownLatch(1);
        final Thread device = new Thread(() -> {
            final DmaSpace space = vtd.unit.dmaSpace(NIC);
            long newReads = 0;
            while (newReads < 100_000) {
                final boolean after = invalidated.get();
                final long value = space.getLong(0x1000);
                running.countDown();
                if (after) {
                    newReads++;
                    if (value != 2) {
                        staleAfterInvalidation.incrementAndGet();
                    }
                }
            }
        });
        device.start();
        running.await();
        vtd.memory.putLong(leaf, 0x6000 | 3);
        final long[] page = VtdFixture.iotlbPages(1, 0x1000, 0);
        final long[] wait = VtdFixture.waitWithStatus(0x8000, 1, false);
        vtd.queue(page[0], page[1], wait[0], wait[1]);
        assertEquals(1, vtd.memory.getInt(0x8000), "the wait descriptor completed");
        invalidated.set(true);
        device.join(60_000);
        assertFalse(device.isAlive());
        assertEquals(0, staleAfterInvalidation.get());
    }
}

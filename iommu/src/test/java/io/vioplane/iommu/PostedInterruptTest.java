package io.vioplane.iommu;

import io.vioplane.iommu.testkit.VtdFixture;
import io.vioplane.platform.memory.MemoryAccessException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.vioplane.iommu.testkit.VtdFixture.irteHigh;
import static io.vioplane.iommu.testkit.VtdFixture.remappable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PostedInterruptTest {
    private static final int NIC = SourceId.of(0, 3, 0);
    private static final long DESCRIPTOR_GPA = 0x7_0040L;
    private final VtdFixture vtd = new VtdFixture();
    private final InterruptRemappingTest.Recorder delivery = new InterruptRemappingTest.Recorder();
    private long table;

    @AfterEach
    void close() {
        vtd.close();
    }

    private void postedEntry(final int index, final int vector, final boolean urgent) {
        if (table == 0) {
            table = vtd.enableInterruptRemapping(7, true);
        }
        final long[] irte = VtdFixture.postedIrte(vector, DESCRIPTOR_GPA, urgent, irteHigh(NIC, 0, 1));
        vtd.put128(table + 16L * index, irte[0], irte[1]);
    }

    private void control(final boolean suppress, final int notificationVector, final int destination) {
        vtd.memory.putLong(DESCRIPTOR_GPA + 32, (suppress ? 2 : 0) | (long) notificationVector << 16
                | (long) destination << 32);
    }

    @Test
    void postingSetsThePirBitAndNotifiesOnce() {
        postedEntry(0, 0x91, false);
        control(false, 0xF2, 7);
        final InterruptRoute route = vtd.unit.signalInterrupt(NIC, remappable(0), delivery);
        assertEquals(new InterruptRoute.Posted(0x91, DESCRIPTOR_GPA, false), route);
        assertTrue(PostedInterruptDescriptor.pending(vtd.memory, DESCRIPTOR_GPA, 0x91));
        assertEquals(1L << (0x91 - 128), vtd.memory.getLong(DESCRIPTOR_GPA + 16));
        assertEquals(1, vtd.memory.getLong(DESCRIPTOR_GPA + 32) & 1, "ON set");
        assertEquals(1, delivery.notifications.size());
        assertArrayEquals(new int[] {0xF2, 7}, delivery.notifications.getFirst());
        assertTrue(delivery.delivered.isEmpty(), "a posted interrupt is not delivered directly");
        vtd.unit.signalInterrupt(NIC, remappable(0), delivery);
        assertEquals(1, delivery.notifications.size(), "ON was already set");
        assertEquals(2, vtd.unit.count(IommuCounter.INTERRUPTS_POSTED));
        assertEquals(1, vtd.unit.count(IommuCounter.POSTED_NOTIFICATIONS));
    }

    @Test
    void suppressNotificationPostsWithoutNotifying() {
        postedEntry(0, 0x31, false);
        control(true, 0xF2, 1);
        vtd.unit.signalInterrupt(NIC, remappable(0), delivery);
        assertTrue(PostedInterruptDescriptor.pending(vtd.memory, DESCRIPTOR_GPA, 0x31));
        assertTrue(delivery.notifications.isEmpty());
        assertEquals(0, vtd.memory.getLong(DESCRIPTOR_GPA + 32) & 1, "ON stays clear");
    }

    @Test
    void anUrgentEntryNotifiesDespiteSuppression() {
        postedEntry(0, 0x31, true);
        control(true, 0xF3, 2);
        vtd.unit.signalInterrupt(NIC, remappable(0), delivery);
        assertEquals(1, delivery.notifications.size());
    }

    @Test
    void theProcessorTakesRequestsAndRearmsTheNotification() {
        postedEntry(0, 0x45, false);
        postedEntry(1, 0x46, false);
        control(false, 0xF2, 0);
        vtd.unit.signalInterrupt(NIC, remappable(0), delivery);
        vtd.unit.signalInterrupt(NIC, remappable(1), delivery);
        assertEquals(1, delivery.notifications.size());
        assertEquals(3L << 5, PostedInterruptDescriptor.takeRequests(vtd.memory, DESCRIPTOR_GPA, 1));
        assertFalse(PostedInterruptDescriptor.pending(vtd.memory, DESCRIPTOR_GPA, 0x45));
        PostedInterruptDescriptor.clearOutstanding(vtd.memory, DESCRIPTOR_GPA);
        vtd.unit.signalInterrupt(NIC, remappable(0), delivery);
        assertEquals(2, delivery.notifications.size());
    }

    @Test
    void concurrentPostsLoseNoVectorAndNotifyOnce() throws InterruptedException {
        for (int i = 0; i < 64; i++) {
            postedEntry(i, 0x80 + i, false);
        }
        control(false, 0xF2, 0);
        final Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            final int first = t * 16;
            threads[t] = new Thread(() -> {
                for (int i = first; i < first + 16; i++) {
                    vtd.unit.signalInterrupt(NIC, remappable(i), delivery);
                }
            });
        }
        for (Thread thread : threads) {
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(-1L, vtd.memory.getLong(DESCRIPTOR_GPA + 16));
        assertEquals(1, delivery.notifications.size());
    }

    @Test
    void aDescriptorOutsideMemoryIsRefusedAndCounted() {
        table = vtd.enableInterruptRemapping(7, true);
        final long[] irte = VtdFixture.postedIrte(0x40, VtdFixture.OUTSIDE_GPA, false, 0);
        vtd.put128(table, irte[0], irte[1]);
        assertEquals(MemoryAccessException.Reason.OUT_OF_RANGE, assertThrows(MemoryAccessException.class,
                () -> vtd.unit.signalInterrupt(NIC, remappable(0), delivery)).reason());
        assertEquals(1, vtd.unit.count(IommuCounter.POSTED_DESCRIPTOR_ERRORS));
    }
}

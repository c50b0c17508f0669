package io.vioplane.vmx.kvm;

import io.vioplane.platform.irq.MsiMessage;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which guest-programmed MSI messages the routes refuse before they reach KVM, and the routing table they write. */
class KvmMsiRoutesTest {
    @Test
    void acceptsAnOrdinaryMessage() {
        assertNull(KvmMsiRoutes.refusal(new MsiMessage(0xFEE0_0000L, 0x41)));
    }

    @Test
    void refusesMessageToAddressOutsideTheInterruptWindow() {
        assertTrue(KvmMsiRoutes.refusal(new MsiMessage(0x1000L, 0x41)).contains("outside the interrupt window"));
    }

    @Test
    void refusesMessageToReservedVector() {
        assertTrue(KvmMsiRoutes.refusal(new MsiMessage(0xFEE0_0000L, 0x02)).contains("reserved"));
    }

    @Test
    void refusesRemappableFormatWithoutIommu() {
        assertTrue(KvmMsiRoutes.refusal(new MsiMessage(0xFEE0_0010L, 0x41)).contains("remappable"));
    }

    @Test
    void addingAnMsiRouteKeepsTheDefaultIoapicAndPicRoutesOfGsis0To23() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment table = arena.allocate(8 + 48L * (KvmMsiRoutes.DEFAULT_ROUTES + 4), 8);
            final MsiMessage[] messages = new MsiMessage[4];
            messages[2] = new MsiMessage(0xFEE0_0000L, 0x41);
            final int count = KvmMsiRoutes.fill(table, messages);
            assertEquals(KvmMsiRoutes.DEFAULT_ROUTES + 1, count);
            assertEquals(40, KvmMsiRoutes.DEFAULT_ROUTES, "16 PIC + 24 IOAPIC entries, as KVM's default routing");
            assertEquals(count, table.get(ValueLayout.JAVA_INT, 0));
            final int[] ioapicPinOfGsi = new int[24];
            final int[] picEntriesOfGsi = new int[24];
            java.util.Arrays.fill(ioapicPinOfGsi, -1);
            for (int i = 0; i < KvmMsiRoutes.DEFAULT_ROUTES; i++) {
                final long entry = 8 + 48L * i;
                final int gsi = table.get(ValueLayout.JAVA_INT, entry);
                assertEquals(1, table.get(ValueLayout.JAVA_INT, entry + 4), "type irqchip");
                final int chip = table.get(ValueLayout.JAVA_INT, entry + 16);
                final int pin = table.get(ValueLayout.JAVA_INT, entry + 20);
                if (chip == 2) {
                    ioapicPinOfGsi[gsi] = pin;
                } else {
                    assertEquals(gsi < 8 ? 0 : 1, chip, "GSI " + gsi + " on the master or slave PIC");
                    assertEquals(gsi % 8, pin);
                    picEntriesOfGsi[gsi]++;
                }
            }
            for (int gsi = 0; gsi < 24; gsi++) {
                assertEquals(gsi, ioapicPinOfGsi[gsi], "GSI " + gsi + " still reaches IOAPIC pin " + gsi);
                assertEquals(gsi < 16 ? 1 : 0, picEntriesOfGsi[gsi], "PIC routes of GSI " + gsi);
            }
            final long msi = 8 + 48L * KvmMsiRoutes.DEFAULT_ROUTES;
            assertEquals(KvmMsiRoutes.FIRST_MSI_GSI + 2, table.get(ValueLayout.JAVA_INT, msi));
            assertEquals(2, table.get(ValueLayout.JAVA_INT, msi + 4), "type MSI");
            assertEquals(0xFEE0_0000, table.get(ValueLayout.JAVA_INT, msi + 16));
            assertEquals(0, table.get(ValueLayout.JAVA_INT, msi + 20));
            assertEquals(0x41, table.get(ValueLayout.JAVA_INT, msi + 24));
        }
    }
}

package io.vioplane.vmx.kvm;

import io.vioplane.platform.irq.MsiMessage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which guest-programmed MSI messages the routes refuse before they reach KVM. */
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
}

package io.vioplane.platform.irq;

import io.vioplane.platform.sys.EventFd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class MsiMessageTest {
    @Test
    void decodesTheCompatibilityFormat() {
        final MsiMessage message = new MsiMessage(0xFEE0_300CL, 0x0000_C031);
        assertTrue(message.isInterruptWindow());
        assertEquals(3, message.destinationId());
        assertTrue(message.redirectionHint());
        assertTrue(message.logicalDestination());
        assertFalse(message.remappable());
        assertEquals(0x31, message.vector());
        assertEquals(0, message.deliveryMode());
        assertTrue(message.levelTriggered());
    }

    @Test
    void buildsAFixedEdgeMessage() {
        final MsiMessage message = MsiMessage.fixed(1, 0x40);
        assertEquals(0xFEE0_1000L, message.address());
        assertEquals(0x40, message.data());
        assertFalse(message.levelTriggered());
        assertThrows(IllegalArgumentException.class, () -> MsiMessage.fixed(0, 3), "vectors below 16 are reserved");
        assertFalse(new MsiMessage(0xFED0_0000L, 0).isInterruptWindow());
        assertTrue(new MsiMessage(0xFEE0_0010L, 0).remappable());
    }

    @Test
    void eventFdInterruptSignalsItsEventFd() {
        try (EventFdInterrupt interrupt = new EventFdInterrupt(EventFd.create())) {
            interrupt.trigger();
            interrupt.trigger();
            assertEquals(2, interrupt.eventFd().drain());
        }
    }
}

package io.vioplane.e1000;

import io.vioplane.e1000.testkit.E1000TestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.vioplane.e1000.E1000Registers.*;
import static io.vioplane.e1000.testkit.Frames.*;
import static org.junit.jupiter.api.Assertions.*;

/** RDTR/RADV, TIDV/TADV and ITR against a hand-advanced clock. */
class InterruptModerationTest {
    private final E1000TestDriver driver = new E1000TestDriver();

    @BeforeEach
    void start() {
        driver.reset();
        driver.start(0);
        driver.read(ICR);
    }

    @AfterEach
    void close() {
        driver.close();
    }

    private void receive() {
        driver.port().queue(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 50));
        driver.device().poll(16);
    }

    @Test
    void rdtrDelaysRxt0AfterTheLastFrame() {
        driver.write(RDTR, 10);
        driver.write(IMS, ICR_RXT0);
        receive();
        assertFalse(driver.device().interruptAsserted());
        driver.clock().advance(10_000);
        receive();
        driver.clock().advance(10_000);
        driver.device().poll(0);
        assertFalse(driver.device().interruptAsserted(), "the second frame restarted the timer");
        driver.clock().advance(240);
        driver.device().poll(0);
        assertTrue(driver.device().interruptAsserted());
        assertEquals(ICR_RXT0, driver.read(ICR) & ICR_RXT0);
    }

    @Test
    void radvCapsTheDelayFromTheFirstFrame() {
        driver.write(RDTR, 100);
        driver.write(RADV, 20);
        driver.write(IMS, ICR_RXT0);
        receive();
        driver.clock().advance(15_000);
        receive();
        driver.clock().advance(5_000);
        driver.device().poll(0);
        assertFalse(driver.device().interruptAsserted());
        driver.clock().advance(480);
        driver.device().poll(0);
        assertTrue(driver.device().interruptAsserted(), "20 x 1.024 us after the first frame");
    }

    @Test
    void tidvDelaysTxdwOnlyForDescriptorsWithIde() {
        driver.write(TIDV, 8);
        driver.write(IMS, ICR_TXDW);
        final long buffer = driver.txBuffer(0, raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 50));
        driver.queueTx(buffer, 64 | ((0x01 | 0x08 | 0x80) << 24), 0);
        driver.ringTx();
        assertFalse(driver.device().interruptAsserted());
        assertTrue(driver.device().nextDeadlineNs() < Long.MAX_VALUE);
        driver.clock().advance(8 * 1024);
        driver.device().poll(0);
        assertTrue(driver.device().interruptAsserted());
        driver.read(ICR);
        driver.queueTx(buffer, 64 | ((0x01 | 0x08) << 24), 0);
        driver.ringTx();
        assertTrue(driver.device().interruptAsserted(), "no IDE: immediate");
    }

    @Test
    void itrSpacesAssertionsByItsInterval() {
        driver.write(ITR, 1000);
        driver.write(IMS, ICR_TXDW);
        driver.write(ICS, ICR_TXDW);
        assertTrue(driver.device().interruptAsserted());
        driver.read(ICR);
        driver.write(ICS, ICR_TXDW);
        assertFalse(driver.device().interruptAsserted(), "within 256 us of the last assertion");
        assertEquals(0, driver.read(ICR), "held, not yet a cause");
        driver.clock().advance(256_000);
        driver.device().poll(0);
        assertTrue(driver.device().interruptAsserted());
    }
}

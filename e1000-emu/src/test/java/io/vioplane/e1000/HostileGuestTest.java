package io.vioplane.e1000;

import io.vioplane.e1000.testkit.E1000TestDriver;
import io.vioplane.e1000.testkit.HostileE1000;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Random;

import static io.vioplane.e1000.E1000Registers.*;
import static io.vioplane.e1000.testkit.Frames.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every attack of {@link HostileE1000}: it is counted, the device keeps its invariants (indices inside the ring,
 * no exception escapes, no access outside guest memory: {@code GuestMemory} would throw), and a reset device then
 * still moves frames.
 */
class HostileGuestTest {
    static List<HostileE1000.Attack> attacks() {
        return HostileE1000.attacks();
    }

    private static void assertStillWorks(final E1000TestDriver driver) {
        driver.reset();
        driver.start(0);
        driver.port().transmitted().clear();
        final byte[] frame = raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 100);
        driver.sendLegacy(frame);
        assertEquals(1, driver.port().transmitted().size(), "transmit after reset");
        driver.port().queue(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 100));
        driver.device().poll(8);
        assertNotNull(driver.receive(), "receive after reset");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void attackIsCountedAndTheDeviceSurvives(final HostileE1000.Attack attack) {
        try (E1000TestDriver driver = new E1000TestDriver()) {
            driver.reset();
            driver.start(0);
            attack.plant().accept(driver);
            driver.device().poll(8);
            assertTrue(driver.count(attack.expected()) > 0, attack.expected().label());
            final int txCount = driver.read(TDLEN) / 16;
            if (txCount > 0 && driver.count(E1000Counter.HEAD_BEYOND_RING) == 0) {
                assertTrue(driver.read(TDH) < txCount, "TDH stays inside the ring");
            }
            final int rxCount = driver.read(RDLEN) / 16;
            assertTrue(rxCount == 0 || driver.read(RDH) < rxCount, "RDH stays inside the ring");
            assertStillWorks(driver);
        }
    }

    @Test
    void survivesRandomWritesToEveryRegister() {
        final Random random = new Random(0xE1000);
        try (E1000TestDriver driver = new E1000TestDriver()) {
            for (int round = 0; round < 4; round++) {
                driver.reset();
                driver.start(0);
                for (int offset = 0; offset < MMIO_BYTES; offset += 4) {
                    if (offset == CTRL && random.nextInt(4) != 0) {
                        continue;
                    }
                    final int value = switch (random.nextInt(4)) {
                        case 0 -> random.nextInt();
                        case 1 -> random.nextInt(64);
                        case 2 -> (int) E1000TestDriver.MEMORY_GPA + random.nextInt(0x1000) * 16;
                        default -> -1;
                    };
                    driver.write(offset, value);
                    if ((offset & 0xFFF) == 0) {
                        driver.port().queue(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, random.nextInt(2000)));
                        driver.device().poll(4);
                        driver.read(ICR);
                    }
                }
                for (int offset = 0; offset < MMIO_BYTES; offset += 4) {
                    driver.read(offset);
                }
                driver.clock().advance(random.nextInt(1_000_000));
                driver.device().poll(64);
            }
            assertTrue(driver.count(E1000Counter.UNKNOWN_REGISTER_WRITE) > 0);
            assertStillWorks(driver);
        }
    }
}

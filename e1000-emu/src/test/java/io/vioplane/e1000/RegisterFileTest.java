package io.vioplane.e1000;

import io.vioplane.e1000.testkit.E1000TestDriver;
import io.vioplane.e1000.testkit.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.vioplane.e1000.E1000Registers.*;
import static org.junit.jupiter.api.Assertions.*;

/** Register semantics: the dispatch table, reset, interrupt registers, statistics, the I/O window. */
class RegisterFileTest {
    private final E1000TestDriver driver = new E1000TestDriver();

    @AfterEach
    void close() {
        driver.close();
    }

    @Test
    void unknownRegistersReadZeroAndAreCounted() {
        driver.reset();
        driver.write(0x0004, 0x1234);
        assertEquals(0, driver.read(0x0004));
        assertEquals(1, driver.count(E1000Counter.UNKNOWN_REGISTER_WRITE));
        assertEquals(1, driver.count(E1000Counter.UNKNOWN_REGISTER_READ));
    }

    @Test
    void writesToStatusAreCountedAndIgnored() {
        driver.reset();
        final int status = driver.read(STATUS);
        driver.write(STATUS, 0);
        assertEquals(status, driver.read(STATUS));
        assertEquals(1, driver.count(E1000Counter.READ_ONLY_REGISTER_WRITE));
    }

    @Test
    void ctrlResetRestoresDefaultsAndTheMacInReceiveAddressZero() {
        driver.reset();
        driver.write(RCTL, RCTL_EN);
        driver.write(RA, 0);
        driver.write(CTRL, CTRL_RST);
        assertEquals(0, driver.read(RCTL));
        assertEquals(0, driver.read(CTRL) & CTRL_RST, "RST self-clears");
        assertEquals((int) Frames.DEVICE_MAC, driver.read(RA));
        assertEquals(0x5634 | RAH_AV, driver.read(RA + 4));
        assertEquals(0x8100, driver.read(VET));
    }

    @Test
    void lineIsAssertedExactlyWhileIcrAndImsOverlap() {
        driver.reset();
        driver.lineChanges().clear();
        driver.write(ICS, ICR_TXDW);
        assertFalse(driver.device().interruptAsserted(), "masked");
        driver.write(IMS, ICR_TXDW);
        assertTrue(driver.device().interruptAsserted());
        driver.write(IMC, ICR_TXDW);
        assertFalse(driver.device().interruptAsserted());
        driver.write(IMS, ICR_TXDW);
        assertTrue(driver.device().interruptAsserted());
        final int icr = driver.read(ICR);
        assertEquals(ICR_TXDW | ICR_INT_ASSERTED, icr);
        assertFalse(driver.device().interruptAsserted());
        assertEquals(0, driver.read(ICR), "read clears");
        assertEquals(java.util.List.of(true, false, true, false), driver.lineChanges());
    }

    @Test
    void icrWriteClearsOnlyTheWrittenCauses() {
        driver.reset();
        driver.write(ICS, ICR_TXDW | ICR_RXT0);
        driver.write(ICR, ICR_TXDW);
        assertEquals(ICR_RXT0, driver.read(ICR));
    }

    @Test
    void statisticsClearOnReadAndSixtyFourBitPairsClearOnTheHighHalf() {
        driver.reset();
        driver.start(0);
        driver.sendLegacy(Frames.raw(Frames.PEER_MAC_BYTES, Frames.DEVICE_MAC_BYTES, 100));
        assertEquals(1, driver.read(GPTC));
        assertEquals(0, driver.read(GPTC));
        assertEquals(1, driver.read(TPT));
        assertEquals(114 + 4, driver.read(GOTCL));
        assertEquals(114 + 4, driver.read(GOTCL), "the low half alone does not clear");
        assertEquals(0, driver.read(GOTCH));
        assertEquals(0, driver.read(GOTCL));
        assertEquals(1, driver.read(PTC127));
    }

    @Test
    void ioWindowReachesEveryRegister() {
        driver.reset();
        driver.device().ioWrite(IOADDR, 4, TIPG);
        driver.device().ioWrite(IODATA, 4, 0x0060_200A);
        assertEquals(0x0060_200A, driver.read(TIPG));
        assertEquals(TIPG, driver.device().ioRead(IOADDR, 4));
        assertEquals(0x0060_200A, driver.device().ioRead(IODATA, 4));
        driver.device().ioWrite(0x10, 4, 1);
        assertEquals(1, driver.count(E1000Counter.IO_RESERVED_ACCESS));
    }

    @Test
    void ringLengthsKeepOnlyWhole128ByteUnits() {
        driver.reset();
        driver.write(TDLEN, 1000);
        assertEquals(896, driver.read(TDLEN));
        assertEquals(1, driver.count(E1000Counter.RING_LENGTH_NOT_128));
    }

    @Test
    void subDwordAccessesMergeIntoTheRegister() {
        driver.reset();
        driver.write(TIPG, 0x1122_3344);
        driver.device().mmioWrite(TIPG + 2, 2, 0xAABB);
        assertEquals(0xAABB_3344, driver.read(TIPG));
        assertEquals(0xAA, driver.device().mmioRead(TIPG + 3, 1));
    }

    @Test
    void mtaRaAndVftaAreArraysOfPlainRegisters() {
        driver.reset();
        for (int i = 0; i < MTA_ENTRIES; i++) {
            driver.write(MTA + 4 * i, i * 3);
            driver.write(VFTA + 4 * i, i * 5);
        }
        for (int i = 0; i < MTA_ENTRIES; i++) {
            assertEquals(i * 3, driver.read(MTA + 4 * i));
            assertEquals(i * 5, driver.read(VFTA + 4 * i));
        }
        driver.write(RA + 8 * 15 + 4, 0x1234 | RAH_AV);
        assertEquals(0x1234 | RAH_AV, driver.read(RA + 8 * 15 + 4));
        assertEquals(0, driver.count(E1000Counter.UNKNOWN_REGISTER_WRITE));
    }
}

package io.vioplane.e1000;

import io.vioplane.e1000.testkit.E1000TestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.vioplane.e1000.E1000Registers.*;
import static org.junit.jupiter.api.Assertions.*;

/** The EEPROM (both access paths) and the PHY over MDIC, as a driver's probe uses them. */
class EepromAndPhyTest {
    private final E1000TestDriver driver = new E1000TestDriver();

    @AfterEach
    void close() {
        driver.close();
    }

    @Test
    void eepromWordsSumToBabaWithTheMacInWordsZeroToTwo() {
        driver.reset();
        int sum = 0;
        for (int i = 0; i < 64; i++) {
            sum += driver.readEepromEerd(i);
        }
        assertEquals(0xBABA, sum & 0xFFFF);
        assertEquals(0x5452, driver.readEepromEerd(0));
        assertEquals(0x1200, driver.readEepromEerd(1));
        assertEquals(0x5634, driver.readEepromEerd(2));
        assertEquals(0x100E, driver.readEepromEerd(0x0D));
        assertEquals(0x8086, driver.readEepromEerd(0x0E));
    }

    @Test
    void bitBangReadsTheSameWordsAsEerd() {
        driver.reset();
        for (int i = 0; i < 64; i++) {
            assertEquals(driver.readEepromEerd(i), driver.readEepromBitBang(i), "word " + i);
        }
        assertEquals(0, driver.count(E1000Counter.EEPROM_OUT_OF_SEQUENCE));
    }

    @Test
    void eecdReportsPresentAndGrantsOnRequest() {
        driver.reset();
        assertNotEquals(0, driver.read(EECD) & EECD_PRES);
        assertEquals(0, driver.read(EECD) & EECD_GNT);
        driver.write(EECD, EECD_REQ);
        assertNotEquals(0, driver.read(EECD) & EECD_GNT);
    }

    @Test
    void eerdBeyondTheImageIsDoneAndCounted() {
        driver.reset();
        driver.write(EERD, EERD_START | (0x80 << EERD_ADDR_SHIFT));
        final int value = driver.read(EERD);
        assertNotEquals(0, value & EERD_DONE);
        assertEquals(0, value >>> EERD_DATA_SHIFT);
        assertEquals(1, driver.count(E1000Counter.EEPROM_ADDRESS_BEYOND_IMAGE));
    }

    @Test
    void phyIdentifiesAsM88E1011() {
        driver.reset();
        final int id1 = driver.mdicRead(1, M88E1011Phy.PHYID1);
        final int id2 = driver.mdicRead(1, M88E1011Phy.PHYID2);
        assertNotEquals(0, id1 & MDIC_READY);
        assertEquals(0, id1 & MDIC_ERROR);
        assertEquals(0x0141, id1 & 0xFFFF);
        assertEquals(0x0C20, id2 & 0xFFFF);
    }

    @Test
    void mdicToAnotherPhyAddressSetsErrorAndIsCounted() {
        driver.reset();
        final int mdic = driver.mdicRead(2, M88E1011Phy.PHYID1);
        assertNotEquals(0, mdic & MDIC_ERROR);
        assertNotEquals(0, mdic & MDIC_READY);
        assertEquals(1, driver.count(E1000Counter.MDIC_NO_SUCH_PHY));
    }

    @Test
    void mdicWriteToReadOnlyRegisterSetsError() {
        driver.reset();
        assertNotEquals(0, driver.mdicWrite(1, M88E1011Phy.PHYID1, 0x1234) & MDIC_ERROR);
        assertEquals(0x0141, driver.mdicRead(1, M88E1011Phy.PHYID1) & 0xFFFF);
    }

    @Test
    void autoNegotiationBringsTheLinkUpWithLsc() {
        driver.reset();
        driver.write(IMS, ICR_LSC);
        driver.mdicWrite(1, M88E1011Phy.BMCR, M88E1011Phy.BMCR_AUTONEG_ENABLE | M88E1011Phy.BMCR_AUTONEG_RESTART);
        assertEquals(0, driver.read(STATUS) & STATUS_LU);
        driver.read(ICR);
        driver.device().poll(0);
        assertNotEquals(0, driver.read(STATUS) & STATUS_LU);
        assertTrue(driver.device().interruptAsserted());
        assertNotEquals(0, driver.read(ICR) & ICR_LSC);
        assertNotEquals(0, driver.mdicRead(1, M88E1011Phy.BMSR) & M88E1011Phy.BMSR_AUTONEG_COMPLETE);
        assertEquals(0xAC00, driver.mdicRead(1, M88E1011Phy.PSSR) & 0xFC00);
    }

    @Test
    void portLinkDownClearsLinkUpAndRaisesLsc() {
        driver.reset();
        driver.write(IMS, ICR_LSC);
        assertNotEquals(0, driver.read(STATUS) & STATUS_LU);
        driver.device().portLink(false);
        assertEquals(0, driver.read(STATUS) & STATUS_LU);
        assertEquals(0, driver.mdicRead(1, M88E1011Phy.BMSR) & M88E1011Phy.BMSR_LINK);
        assertNotEquals(0, driver.read(ICR) & ICR_LSC);
        driver.device().poll(0);
        assertEquals(0, driver.read(STATUS) & STATUS_LU, "no link while the port is down");
        driver.device().portLink(true);
        driver.device().poll(0);
        assertNotEquals(0, driver.read(STATUS) & STATUS_LU);
    }

    @Test
    void phyResetThroughCtrlRestoresDefaultsAndRenegotiates() {
        driver.reset();
        driver.mdicWrite(1, M88E1011Phy.PSCR, 0x0068);
        driver.write(CTRL, driver.read(CTRL) | CTRL_PHY_RST);
        driver.device().poll(0);
        assertEquals(0, driver.read(STATUS) & STATUS_LU, "held in reset");
        driver.write(CTRL, driver.read(CTRL) & ~CTRL_PHY_RST);
        driver.device().poll(0);
        assertEquals(0x0360, driver.mdicRead(1, M88E1011Phy.PSCR) & 0xFFFF);
        assertNotEquals(0, driver.read(STATUS) & STATUS_LU);
    }

    @Test
    void autoNegotiationTakesTheConfiguredTimeSoADriverCheckingAtOnceFindsTheLinkDown() {
        driver.reset();
        driver.device().autoNegotiationTime(500_000_000L);
        driver.mdicWrite(1, M88E1011Phy.BMCR, M88E1011Phy.BMCR_AUTONEG_ENABLE | M88E1011Phy.BMCR_AUTONEG_RESTART);
        final long restartedNs = driver.clock().nanoTime();
        assertEquals(restartedNs + 500_000_000L, driver.device().nextDeadlineNs());
        driver.clock().advance(499_999_999L);
        driver.device().poll(0);
        assertEquals(0, driver.read(STATUS) & STATUS_LU, "still negotiating");
        assertEquals(0, driver.mdicRead(1, M88E1011Phy.BMSR) & M88E1011Phy.BMSR_LINK);
        driver.clock().advance(1);
        driver.device().poll(0);
        assertNotEquals(0, driver.read(STATUS) & STATUS_LU);
        assertEquals(Long.MAX_VALUE, driver.device().nextDeadlineNs());
    }

    @Test
    void aPhySoftwareResetKeepsTheConfigurationTheDriverWroteAndRenegotiates() {
        driver.reset();
        driver.mdicWrite(1, M88E1011Phy.PSCR, 0x0B60);
        driver.mdicWrite(1, M88E1011Phy.BMCR, driver.mdicRead(1, M88E1011Phy.BMCR) | 0x8000);
        assertEquals(0x0B60, driver.mdicRead(1, M88E1011Phy.PSCR) & 0xFFFF, "Assert CRS on transmit stays set");
        assertEquals(0, driver.mdicRead(1, M88E1011Phy.BMCR) & 0x8000, "the reset bit clears itself");
        assertEquals(0, driver.read(STATUS) & STATUS_LU, "the link renegotiates");
        driver.device().poll(0);
        assertNotEquals(0, driver.read(STATUS) & STATUS_LU);
    }
}

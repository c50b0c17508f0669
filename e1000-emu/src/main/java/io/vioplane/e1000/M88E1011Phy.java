package io.vioplane.e1000;

/**
 * The Marvell 88E1011 copper PHY behind an 82540EM's MDIO interface (SDM 13.4.7 for MDIC, SDM 13.5 "PHY
 * registers"; IDs 0x0141/0x0C20 as Linux's e1000 expects for M88E1011_I_PHY_ID), at PHY address 1. It holds the
 * IEEE 802.3 clause 22 registers the e1000 driver and ethtool use plus the Marvell-specific ones (PSCR 0x10,
 * PSSR 0x11, EPSCR 0x14), completes auto-negotiation at 1000BASE-T full duplex when the port's link is up, and
 * drops the link (BMSR link status, PSSR link) when the port's link goes down.
 */
final class M88E1011Phy {
    /** The PHY's MDIO address. */
    static final int ADDRESS = 1;
    static final int BMCR = 0x00;
    static final int BMSR = 0x01;
    static final int PHYID1 = 0x02;
    static final int PHYID2 = 0x03;
    static final int ANAR = 0x04;
    static final int ANLPAR = 0x05;
    static final int ANER = 0x06;
    static final int NPTX = 0x07;
    static final int LPRNP = 0x08;
    static final int GBCR = 0x09;
    static final int GBSR = 0x0A;
    static final int EXT_STATUS = 0x0F;
    static final int PSCR = 0x10;
    static final int PSSR = 0x11;
    static final int IER = 0x12;
    static final int ISR = 0x13;
    static final int EPSCR = 0x14;
    static final int RX_ERR_COUNTER = 0x15;
    static final int PAGE_ADDRESS = 0x1D;
    static final int PAGE_DATA = 0x1E;

    static final int BMCR_RESET = 0x8000;
    static final int BMCR_LOOPBACK = 0x4000;
    static final int BMCR_AUTONEG_ENABLE = 0x1000;
    static final int BMCR_AUTONEG_RESTART = 0x0200;
    static final int BMSR_LINK = 0x0004;
    static final int BMSR_AUTONEG_COMPLETE = 0x0020;
    static final int PSSR_LINK = 0x0400;

    private static final int R = 1;
    private static final int W = 2;
    private static final int[] ACCESS = new int[32];

    static {
        for (int register : new int[] {BMSR, PHYID1, PHYID2, ANLPAR, ANER, LPRNP, GBSR, EXT_STATUS, PSSR, ISR,
            RX_ERR_COUNTER}) {
            ACCESS[register] = R;
        }
        for (int register : new int[] {BMCR, ANAR, NPTX, GBCR, PSCR, IER, EPSCR, PAGE_ADDRESS, PAGE_DATA}) {
            ACCESS[register] = R | W;
        }
    }

    private final int[] registers = new int[32];
    private boolean portLinkUp = true;

    M88E1011Phy() {
        reset();
    }

    /** Puts every register at its power-on value; the link renegotiates. */
    void reset() {
        java.util.Arrays.fill(registers, 0);
        registers[BMCR] = 0x1140;
        registers[BMSR] = 0x7949;
        registers[PHYID1] = 0x0141;
        registers[PHYID2] = 0x0C20;
        registers[ANAR] = 0x0DE1;
        registers[GBCR] = 0x0E00;
        registers[EXT_STATUS] = 0x3000;
        registers[PSCR] = 0x0360;
        registers[PSSR] = 0x0000;
        registers[EPSCR] = 0x0D60;
    }

    /** @return true if {@code register} exists and is readable */
    boolean readable(final int register) {
        return (ACCESS[register & 31] & R) != 0;
    }

    /** @return true if {@code register} exists and is writable */
    boolean writable(final int register) {
        return (ACCESS[register & 31] & W) != 0;
    }

    /** @return the register's value (ISR clears on read, as the 88E1011's interrupt status does) */
    int read(final int register) {
        final int value = registers[register & 31];
        if (register == ISR) {
            registers[ISR] = 0;
        }
        return value;
    }

    /**
     * Writes a register.
     *
     * @return true if auto-negotiation (re)starts
     */
    boolean write(final int register, final int value) {
        if (register == BMCR) {
            if ((value & BMCR_RESET) != 0) {
                // A software reset (88E1011 datasheet, register 0 bit 15) keeps the configuration registers (PSCR,
                // ANAR, GBCR, EPSCR): it is how a driver makes their new values take effect. Only a hardware reset
                // (CTRL.PHY_RST, reset()) restores power-on values. The link renegotiates either way.
                registers[BMCR] = value & ~(BMCR_RESET | BMCR_AUTONEG_RESTART | 0x3F);
                return (value & BMCR_AUTONEG_ENABLE) != 0;
            }
            registers[BMCR] = value & ~(BMCR_RESET | BMCR_AUTONEG_RESTART | 0x3F);
            return (value & BMCR_AUTONEG_RESTART) != 0 && (value & BMCR_AUTONEG_ENABLE) != 0;
        }
        registers[register & 31] = value & 0xFFFF;
        return false;
    }

    /** @return true if the port's link is up and auto-negotiation completed */
    boolean linkUp() {
        return (registers[BMSR] & BMSR_LINK) != 0;
    }

    /** @return true if the PHY loops transmitted frames back (BMCR loopback) */
    boolean loopback() {
        return (registers[BMCR] & BMCR_LOOPBACK) != 0;
    }

    /** Records the port's link; a down link clears link status at once, an up link waits for negotiation. */
    void portLink(final boolean up) {
        portLinkUp = up;
        if (!up) {
            registers[BMSR] &= ~(BMSR_LINK | BMSR_AUTONEG_COMPLETE);
            registers[PSSR] &= ~PSSR_LINK;
            registers[ANLPAR] = 0;
            registers[GBSR] = 0;
        }
    }

    /**
     * Completes auto-negotiation against a 1000BASE-T full-duplex partner, if the port's link is up.
     *
     * @return true if the link came up
     */
    boolean completeNegotiation() {
        if (!portLinkUp) {
            return false;
        }
        registers[BMSR] |= BMSR_LINK | BMSR_AUTONEG_COMPLETE;
        registers[ANLPAR] = 0x45E1;
        registers[ANER] = 0x000F;
        registers[GBSR] = 0x3C00;
        registers[PSSR] = 0xAC00 | PSSR_LINK;
        return true;
    }
}

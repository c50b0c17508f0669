package io.vioplane.e1000;

/**
 * Register offsets (in BAR0) and bit fields of the Intel 82540EM, from the PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual (8254x SDM), chapter 13 ("Register Descriptions"): offsets in table 13-2,
 * bit layouts in sections 13.4.x. Offsets are byte offsets; the register file indexes dwords ({@code offset >>> 2}).
 */
public final class E1000Registers {
    /** Size of the memory BAR (BAR0): 128 KiB. */
    public static final int MMIO_BYTES = 0x20000;
    /** Size of the I/O BAR (BAR1): IOADDR at 0, IODATA at 4, the rest reserved. */
    public static final int IO_BYTES = 0x40;
    /** IOADDR in BAR1 (SDM 13.2.1). */
    public static final int IOADDR = 0x00;
    /** IODATA in BAR1 (SDM 13.2.2). */
    public static final int IODATA = 0x04;

    public static final int CTRL = 0x0000;
    public static final int STATUS = 0x0008;
    public static final int EECD = 0x0010;
    public static final int EERD = 0x0014;
    public static final int CTRL_EXT = 0x0018;
    public static final int FLA = 0x001C;
    public static final int MDIC = 0x0020;
    public static final int FCAL = 0x0028;
    public static final int FCAH = 0x002C;
    public static final int FCT = 0x0030;
    public static final int VET = 0x0038;
    public static final int ICR = 0x00C0;
    public static final int ITR = 0x00C4;
    public static final int ICS = 0x00C8;
    public static final int IMS = 0x00D0;
    public static final int IMC = 0x00D8;
    public static final int RCTL = 0x0100;
    public static final int FCTTV = 0x0170;
    public static final int TXCW = 0x0178;
    public static final int RXCW = 0x0180;
    public static final int TCTL = 0x0400;
    public static final int TIPG = 0x0410;
    /** Adaptive IFS throttle (SDM 13.4.35): Linux's e1000_reset_adaptive writes it. */
    public static final int AIT = 0x0458;
    public static final int LEDCTL = 0x0E00;
    public static final int PBA = 0x1000;
    public static final int FCRTL = 0x2160;
    public static final int FCRTH = 0x2168;
    public static final int RDBAL = 0x2800;
    public static final int RDBAH = 0x2804;
    public static final int RDLEN = 0x2808;
    public static final int RDH = 0x2810;
    public static final int RDT = 0x2818;
    public static final int RDTR = 0x2820;
    public static final int RXDCTL = 0x2828;
    public static final int RADV = 0x282C;
    public static final int RSRPD = 0x2C00;
    public static final int TXDMAC = 0x3000;
    public static final int TDBAL = 0x3800;
    public static final int TDBAH = 0x3804;
    public static final int TDLEN = 0x3808;
    public static final int TDH = 0x3810;
    public static final int TDT = 0x3818;
    public static final int TIDV = 0x3820;
    public static final int TXDCTL = 0x3828;
    public static final int TADV = 0x382C;
    public static final int TSPMT = 0x3830;
    public static final int RXCSUM = 0x5000;
    public static final int MTA = 0x5200;
    public static final int MTA_ENTRIES = 128;
    public static final int RA = 0x5400;
    public static final int RA_ENTRIES = 16;
    public static final int VFTA = 0x5600;
    public static final int VFTA_ENTRIES = 128;
    public static final int WUC = 0x5800;
    public static final int WUFC = 0x5808;
    public static final int WUS = 0x5810;
    public static final int MANC = 0x5820;
    public static final int IPAV = 0x5838;
    public static final int IP4AT = 0x5840;
    public static final int IP6AT = 0x5880;
    public static final int WUPL = 0x5900;
    public static final int WUPM = 0x5A00;
    public static final int FFLT = 0x5F00;
    public static final int FFMT = 0x9000;
    public static final int FFVT = 0x9800;

    /** First and last statistics registers (SDM 13.7): all clear on read. */
    public static final int STATS_FIRST = 0x4000;
    public static final int STATS_LAST = 0x40FC;
    public static final int CRCERRS = 0x4000;
    public static final int ALGNERRC = 0x4004;
    public static final int SYMERRS = 0x4008;
    public static final int RXERRC = 0x400C;
    public static final int MPC = 0x4010;
    public static final int COLC = 0x4028;
    public static final int SEC = 0x4038;
    public static final int PRC64 = 0x405C;
    public static final int PRC127 = 0x4060;
    public static final int PRC255 = 0x4064;
    public static final int PRC511 = 0x4068;
    public static final int PRC1023 = 0x406C;
    public static final int PRC1522 = 0x4070;
    public static final int GPRC = 0x4074;
    public static final int BPRC = 0x4078;
    public static final int MPRC = 0x407C;
    public static final int GPTC = 0x4080;
    public static final int GORCL = 0x4088;
    public static final int GORCH = 0x408C;
    public static final int GOTCL = 0x4090;
    public static final int GOTCH = 0x4094;
    public static final int RNBC = 0x40A0;
    public static final int RUC = 0x40A4;
    public static final int RFC = 0x40A8;
    public static final int ROC = 0x40AC;
    public static final int RJC = 0x40B0;
    public static final int TORL = 0x40C0;
    public static final int TORH = 0x40C4;
    public static final int TOTL = 0x40C8;
    public static final int TOTH = 0x40CC;
    public static final int TPR = 0x40D0;
    public static final int TPT = 0x40D4;
    public static final int PTC64 = 0x40D8;
    public static final int PTC127 = 0x40DC;
    public static final int PTC255 = 0x40E0;
    public static final int PTC511 = 0x40E4;
    public static final int PTC1023 = 0x40E8;
    public static final int PTC1522 = 0x40EC;
    public static final int MPTC = 0x40F0;
    public static final int BPTC = 0x40F4;
    public static final int TSCTC = 0x40F8;
    public static final int TSCTFC = 0x40FC;

    /** CTRL bits (SDM 13.4.1). */
    public static final int CTRL_FD = 1;
    public static final int CTRL_LRST = 1 << 3;
    public static final int CTRL_ASDE = 1 << 5;
    public static final int CTRL_SLU = 1 << 6;
    public static final int CTRL_SPEED_1000 = 2 << 8;
    public static final int CTRL_RST = 1 << 26;
    public static final int CTRL_VME = 1 << 30;
    public static final int CTRL_PHY_RST = 1 << 31;

    /** STATUS bits (SDM 13.4.2). */
    public static final int STATUS_FD = 1;
    public static final int STATUS_LU = 1 << 1;
    public static final int STATUS_SPEED_1000 = 2 << 6;
    public static final int STATUS_ASDV_1000 = 2 << 8;

    /** EECD bits (SDM 13.4.3). */
    public static final int EECD_SK = 1;
    public static final int EECD_CS = 1 << 1;
    public static final int EECD_DI = 1 << 2;
    public static final int EECD_DO = 1 << 3;
    public static final int EECD_FWE_MASK = 3 << 4;
    public static final int EECD_REQ = 1 << 6;
    public static final int EECD_GNT = 1 << 7;
    public static final int EECD_PRES = 1 << 8;

    /** EERD fields (SDM 13.4.4). */
    public static final int EERD_START = 1;
    public static final int EERD_DONE = 1 << 4;
    public static final int EERD_ADDR_SHIFT = 8;
    public static final int EERD_DATA_SHIFT = 16;

    /** MDIC fields (SDM 13.4.7). */
    public static final int MDIC_DATA_MASK = 0xFFFF;
    public static final int MDIC_REG_SHIFT = 16;
    public static final int MDIC_PHY_SHIFT = 21;
    public static final int MDIC_OP_WRITE = 1 << 26;
    public static final int MDIC_OP_READ = 2 << 26;
    public static final int MDIC_READY = 1 << 28;
    public static final int MDIC_IE = 1 << 29;
    public static final int MDIC_ERROR = 1 << 30;

    /** Interrupt causes, the same bits in ICR, ICS, IMS and IMC (SDM 13.4.17-21). */
    public static final int ICR_TXDW = 0x01;
    public static final int ICR_TXQE = 0x02;
    public static final int ICR_LSC = 0x04;
    public static final int ICR_RXSEQ = 0x08;
    public static final int ICR_RXDMT0 = 0x10;
    public static final int ICR_RXO = 0x40;
    public static final int ICR_RXT0 = 0x80;
    public static final int ICR_MDAC = 0x200;
    public static final int ICR_RXCFG = 0x400;
    public static final int ICR_GPI = 0x6000;
    public static final int ICR_TXD_LOW = 0x8000;
    public static final int ICR_SRPD = 0x10000;
    /** Every cause an 82540EM can report. */
    public static final int ICR_CAUSES = 0x1F6DF;
    /** Set in ICR whenever a cause is pending and the line is asserted (82540EM: bit 31 reads as INT_ASSERTED). */
    public static final int ICR_INT_ASSERTED = 0x8000_0000;

    /** RCTL bits (SDM 13.4.22). */
    public static final int RCTL_EN = 1 << 1;
    public static final int RCTL_SBP = 1 << 2;
    public static final int RCTL_UPE = 1 << 3;
    public static final int RCTL_MPE = 1 << 4;
    public static final int RCTL_LPE = 1 << 5;
    public static final int RCTL_LBM_MASK = 3 << 6;
    public static final int RCTL_RDMTS_SHIFT = 8;
    public static final int RCTL_MO_SHIFT = 12;
    public static final int RCTL_BAM = 1 << 15;
    public static final int RCTL_BSIZE_SHIFT = 16;
    public static final int RCTL_VFE = 1 << 18;
    public static final int RCTL_BSEX = 1 << 25;
    public static final int RCTL_SECRC = 1 << 26;

    /** TCTL bits (SDM 13.4.33). */
    public static final int TCTL_EN = 1 << 1;
    public static final int TCTL_PSP = 1 << 3;

    /** RXCSUM bits (SDM 13.4.40). */
    public static final int RXCSUM_PCSS_MASK = 0xFF;
    public static final int RXCSUM_IPOFL = 1 << 8;
    public static final int RXCSUM_TUOFL = 1 << 9;

    /** RAH: address valid (SDM 13.5.3). */
    public static final int RAH_AV = 1 << 31;

    /** Ring length granularity: TDLEN/RDLEN count 128-byte units (SDM 13.4.29, 13.4.37). */
    public static final int RING_LENGTH_MASK = 0xFFF80;
    /** Descriptor size for both rings. */
    public static final int DESCRIPTOR_BYTES = 16;

    private E1000Registers() {
    }

    /** @return the register-file index (dword) of byte offset {@code offset} */
    public static int index(final int offset) {
        return offset >>> 2;
    }
}

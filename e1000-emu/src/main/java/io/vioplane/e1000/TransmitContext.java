package io.vioplane.e1000;

/**
 * The offload parameters of one TCP/IP context descriptor (SDM 3.3.6, table 3-10), read once from the ring:
 *
 * <pre>
 *   +0  IPCSS u8 | IPCSO u8 | IPCSE u16        IP checksum start, field, inclusive end (0: frame end)
 *   +4  TUCSS u8 | TUCSO u8 | TUCSE u16        TCP/UDP checksum start, field, end
 *   +8  PAYLEN[19:0] | DTYP[23:20]=0 | TUCMD[31:24] (TCP 0x01, IP 0x02, TSE 0x04, RS 0x08, DEXT 0x20, IDE 0x80)
 *   +12 STA u8 | HDRLEN u8 | MSS u16
 * </pre>
 * The 82540EM keeps one context for checksum-only packets and one for TSO packets, chosen by TUCMD.TSE.
 */
final class TransmitContext {
    static final int TUCMD_TCP = 0x01;
    static final int TUCMD_IP = 0x02;
    static final int TUCMD_TSE = 0x04;

    int ipStart;
    int ipField;
    int ipEnd;
    int transportStart;
    int transportField;
    int transportEnd;
    int payloadBytes;
    int command;
    int headerBytes;
    int mss;

    /** Loads the fields from a context descriptor's three words. */
    void load(final long offsets, final int commandAndLength, final int upper) {
        ipStart = (int) (offsets & 0xFF);
        ipField = (int) ((offsets >>> 8) & 0xFF);
        ipEnd = (int) ((offsets >>> 16) & 0xFFFF);
        transportStart = (int) ((offsets >>> 32) & 0xFF);
        transportField = (int) ((offsets >>> 40) & 0xFF);
        transportEnd = (int) ((offsets >>> 48) & 0xFFFF);
        payloadBytes = commandAndLength & 0xF_FFFF;
        command = commandAndLength >>> 24;
        headerBytes = (upper >>> 8) & 0xFF;
        mss = upper >>> 16;
    }

    /** @return true for an IPv4 context (TUCMD.IP) */
    boolean ipv4() {
        return (command & TUCMD_IP) != 0;
    }

    /** @return true for a TCP context (TUCMD.TCP), else UDP */
    boolean tcp() {
        return (command & TUCMD_TCP) != 0;
    }

    /** Forgets the context (device reset). */
    void clear() {
        load(0, 0, 0);
    }
}

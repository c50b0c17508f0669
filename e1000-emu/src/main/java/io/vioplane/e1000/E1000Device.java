package io.vioplane.e1000;

import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.virtionet.port.NetPort;

import static io.vioplane.e1000.E1000Registers.*;

/**
 * An Intel 82540EM Gigabit Ethernet controller (8254x SDM), transport-free: the register window of BAR0
 * ({@link #mmioRead}/{@link #mmioWrite}) and the IOADDR/IODATA window of BAR1 ({@link #ioRead}/{@link #ioWrite},
 * SDM 13.2), DMA through a {@link DmaSpace}, frames through a {@link NetPort} (queue pair 0), and one
 * {@link InterruptLine} asserted exactly while ICR &amp; IMS != 0. The PCI function around it (config space, BARs,
 * INTx) belongs to the machine that hosts it.
 *
 * <p>Parts: {@link RegisterTable} (one read and one write handler per register), {@link Eeprom} (EECD bit-bang and
 * EERD), {@link M88E1011Phy} over MDIC, {@link TransmitPath}, {@link ReceivePath} with {@link ReceiveFilter},
 * {@link InterruptCauses} with moderation timers, {@link Statistics}. Every guest misbehaviour is counted in an
 * {@link E1000Counter} set and otherwise ignored, as the hardware ignores it.
 *
 * <p>Threading: not thread-safe. The host serializes register accesses, {@link #poll} and {@link #portLink} on one
 * thread (a TDT write transmits synchronously, like QEMU's e1000); moving TX work to a data-plane agent is the
 * machine's choice.
 */
public final class E1000Device implements AutoCloseable {
    private static final int LEDCTL_DEFAULT = 0x0706_8302;
    private static final int PBA_DEFAULT = 0x0010_0030;
    private static final int CTRL_DEFAULT = CTRL_FD | CTRL_ASDE | CTRL_SLU | CTRL_SPEED_1000;

    private final RegisterTable table = new RegisterTable();
    private final int[] values = table.values();
    private final NetPort port;
    private final DeviceClock clock;
    private final long macAddress;
    private final CounterSet<E1000Counter> counters;
    private final Eeprom eeprom;
    private final M88E1011Phy phy = new M88E1011Phy();
    private final Statistics statistics = new Statistics(values);
    private final InterruptCauses interrupts;
    private final ReceivePath receive;
    private final TransmitPath transmit;
    private boolean negotiationPending;
    private long negotiationStartNs;
    private long autoNegotiationNs;
    private boolean portLinkUp = true;
    private boolean starvedReported;
    private int ioAddress;

    /**
     * @param dma        where descriptor rings and buffers live
     * @param port       where frames go and come from (queue pair 0)
     * @param line       the interrupt output
     * @param clock      the time base of the moderation timers
     * @param macAddress the Ethernet address stored in the EEPROM, first octet in the low byte
     * @param counters   where misbehaviour and work are counted
     */
    public E1000Device(final DmaSpace dma, final NetPort port, final InterruptLine line, final DeviceClock clock,
                       final long macAddress, final CounterSet<E1000Counter> counters) {
        this.port = port;
        this.clock = clock;
        this.macAddress = macAddress;
        this.counters = counters;
        this.eeprom = new Eeprom(macAddress, counters);
        this.interrupts = new InterruptCauses(values, clock, line, counters);
        this.receive = new ReceivePath(values, dma, new ReceiveFilter(values), statistics, interrupts, counters, phy);
        this.transmit = new TransmitPath(values, dma, port, statistics, interrupts, counters, receive, phy);
        defineRegisters();
        reset();
    }

    private void defineRegisters() {
        final RegisterTable.ReadHandler plain = table.plainRead();
        final RegisterTable.WriteHandler store = table.plainWrite();
        final RegisterTable.WriteHandler low16 = table.maskedWrite(0xFFFF);
        final RegisterTable.WriteHandler ringLength = (index, value) -> {
            if ((value & ~RING_LENGTH_MASK) != 0) {
                counters.increment(E1000Counter.RING_LENGTH_NOT_128);
            }
            values[index] = value & RING_LENGTH_MASK;
        };
        table.define(CTRL, 1, plain, (index, value) -> writeCtrl(value));
        table.define(STATUS, 1, plain, null);
        table.define(EECD, 1, index -> eeprom.readEecd(), (index, value) -> eeprom.writeEecd(value));
        table.define(EERD, 1, plain, (index, value) -> values[index] = eeprom.writeEerd(value));
        for (int offset : new int[] {CTRL_EXT, FLA, FCAL, FCAH, FCT, FCTTV, TXCW, TIPG, AIT, LEDCTL, PBA, FCRTL, FCRTH,
            RXDCTL, RSRPD, TXDMAC, TXDCTL, TSPMT, RDBAL, RDBAH, TDBAL, TDBAH, WUC, WUFC, WUS, MANC, IPAV, WUPL}) {
            table.plain(offset);
        }
        table.define(RXCW, 1, plain, null);
        table.define(MDIC, 1, plain, (index, value) -> writeMdic(value));
        table.define(VET, 1, plain, low16);
        table.define(ICR, 1, index -> interrupts.readIcr(), (index, value) -> interrupts.writeIcr(value));
        table.define(ICS, 1, plain, (index, value) -> interrupts.writeIcs(value));
        table.define(IMS, 1, plain, (index, value) -> interrupts.writeIms(value));
        table.define(IMC, 1, null, (index, value) -> interrupts.writeImc(value));
        table.define(ITR, 1, plain, low16);
        table.define(RCTL, 1, plain, store);
        table.define(TCTL, 1, plain, (index, value) -> {
            values[index] = value;
            transmit.kick();
        });
        table.define(RDLEN, 1, plain, ringLength);
        table.define(TDLEN, 1, plain, ringLength);
        table.define(RDH, 1, plain, low16);
        table.define(RDT, 1, plain, low16);
        table.define(TDH, 1, plain, low16);
        table.define(TDT, 1, plain, (index, value) -> {
            values[index] = value & 0xFFFF;
            transmit.kick();
        });
        for (int offset : new int[] {RDTR, RADV, TIDV, TADV}) {
            table.define(offset, 1, plain, low16);
        }
        table.define(RXCSUM, 1, plain, table.maskedWrite(0x3FF));
        table.define(MTA, MTA_ENTRIES, plain, store);
        table.define(RA, RA_ENTRIES * 2, plain, store);
        table.define(VFTA, VFTA_ENTRIES, plain, store);
        table.define(IP4AT, 8, plain, store);
        table.define(IP6AT, 4, plain, store);
        table.define(WUPM, 32, plain, store);
        table.define(FFLT, 8, plain, store);
        table.define(FFMT, 256, plain, store);
        table.define(FFVT, 256, plain, store);
        for (int offset = STATS_FIRST; offset <= STATS_LAST; offset += 4) {
            table.define(offset, 1, Statistics.isLowHalf(offset) ? plain : statistics::readAndClear, null);
        }
    }

    /**
     * A power-on reset (a PCI reset from the host, as QEMU's system reset sends): the same as {@code CTRL.RST}, every
     * register to its default, the EEPROM reloaded, the PHY reset (SDM 14.9).
     */
    public void powerOnReset() {
        reset();
    }

    /** Device reset (power-on, CTRL.RST; SDM 14.9): every register to its default, the EEPROM reloaded. */
    private void reset() {
        counters.increment(E1000Counter.RESETS);
        interrupts.reset();
        transmit.reset();
        eeprom.reset();
        table.clear();
        values[CTRL >>> 2] = CTRL_DEFAULT;
        values[LEDCTL >>> 2] = LEDCTL_DEFAULT;
        values[PBA >>> 2] = PBA_DEFAULT;
        values[VET >>> 2] = 0x8100;
        values[RA >>> 2] = (int) macAddress;
        values[(RA + 4) >>> 2] = (int) ((macAddress >>> 32) & 0xFFFF) | RAH_AV;
        resetPhy();
    }

    /**
     * Sets how long auto-negotiation takes from a PHY reset or restart until the link is up (default 0: it completes
     * at the next {@link #poll}). Real parts take seconds and QEMU's e1000 500 ms; a host that runs guest drivers
     * gives it a realistic time, so that a driver checking the link right after restarting negotiation finds it
     * still down, as on hardware.
     */
    public void autoNegotiationTime(final long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("negative auto-negotiation time: " + nanos);
        }
        this.autoNegotiationNs = nanos;
    }

    private void startNegotiation() {
        negotiationPending = true;
        negotiationStartNs = clock.nanoTime();
    }

    private void resetPhy() {
        phy.reset();
        startNegotiation();
        updateStatus();
    }

    private void writeCtrl(final int value) {
        if ((value & CTRL_RST) != 0) {
            reset();
            return;
        }
        final int previous = values[CTRL >>> 2];
        values[CTRL >>> 2] = value;
        if ((value & CTRL_PHY_RST) != 0) {
            phy.reset();
            renegotiate();
        } else if ((previous & CTRL_PHY_RST) != 0) {
            startNegotiation();
        }
    }

    private void writeMdic(final int value) {
        final int register = (value >>> MDIC_REG_SHIFT) & 31;
        final int phyAddress = (value >>> MDIC_PHY_SHIFT) & 31;
        int result = value & ~(MDIC_READY | MDIC_ERROR);
        if (phyAddress != M88E1011Phy.ADDRESS) {
            counters.increment(E1000Counter.MDIC_NO_SUCH_PHY);
            result |= MDIC_ERROR;
        } else if ((value & MDIC_OP_READ) != 0 && (value & MDIC_OP_WRITE) == 0) {
            if (phy.readable(register)) {
                result = (result & ~MDIC_DATA_MASK) | phy.read(register);
            } else {
                counters.increment(E1000Counter.MDIC_BAD_REGISTER);
                result |= MDIC_ERROR;
            }
        } else if ((value & MDIC_OP_WRITE) != 0 && (value & MDIC_OP_READ) == 0) {
            if (phy.writable(register)) {
                if (phy.write(register, value & MDIC_DATA_MASK)) {
                    renegotiate();
                }
            } else {
                counters.increment(E1000Counter.MDIC_BAD_REGISTER);
                result |= MDIC_ERROR;
            }
        } else {
            counters.increment(E1000Counter.MDIC_BAD_REGISTER);
            result |= MDIC_ERROR;
        }
        values[MDIC >>> 2] = result | MDIC_READY;
        if ((value & MDIC_IE) != 0) {
            interrupts.raise(ICR_MDAC);
        }
    }

    private void renegotiate() {
        phy.portLink(false);
        updateStatus();
        phy.portLink(portLinkUp);
        startNegotiation();
    }

    private void updateStatus() {
        final int previous = values[STATUS >>> 2];
        final int status = phy.linkUp() ? STATUS_FD | STATUS_LU | STATUS_SPEED_1000 | STATUS_ASDV_1000
            : STATUS_ASDV_1000;
        values[STATUS >>> 2] = status;
        if (((previous ^ status) & STATUS_LU) != 0) {
            interrupts.raise(ICR_LSC);
        }
    }

    /**
     * Follows the port's link: down clears STATUS.LU and the PHY's link at once and raises LSC; up renegotiates,
     * completing at the next {@link #poll}.
     */
    public void portLink(final boolean up) {
        portLinkUp = up;
        phy.portLink(up);
        if (up) {
            startNegotiation();
        } else {
            updateStatus();
        }
    }

    /**
     * Does the device's timed and inbound work: completes a pending auto-negotiation, releases interrupt causes
     * whose moderation timers expired, and moves up to {@code budget} frames from the port into the receive ring.
     *
     * @return frames received
     */
    public int poll(final int budget) {
        if (negotiationPending && (values[CTRL >>> 2] & CTRL_PHY_RST) == 0
                && clock.nanoTime() - negotiationStartNs >= autoNegotiationNs) {
            negotiationPending = false;
            phy.completeNegotiation();
            updateStatus();
        }
        interrupts.tick();
        if (receive.hasRoom()) {
            starvedReported = false;
            return port.receive(0, receive, budget);
        }
        if (receive.starved() && port.hasPending(0) && !starvedReported) {
            starvedReported = true;
            statistics.increment(RNBC);
        }
        return 0;
    }

    /** @return when {@link #poll} next has timed work (moderation), as {@link DeviceClock} time; MAX_VALUE if none */
    public long nextDeadlineNs() {
        return negotiationPending ? Math.min(negotiationStartNs + autoNegotiationNs, interrupts.nextDeadlineNs())
            : interrupts.nextDeadlineNs();
    }

    /** @return true while the interrupt line is asserted */
    public boolean interruptAsserted() {
        return interrupts.asserted();
    }

    /**
     * A BAR0 read (SDM 13.1): 4-byte aligned accesses dispatch to the register's read handler; 1- and 2-byte reads
     * take their bytes of the dword read; an 8-byte read is two dword reads.
     */
    public long mmioRead(final long offset, final int sizeBytes) {
        if (offset < 0 || offset + sizeBytes > MMIO_BYTES || !(sizeBytes == 1 || sizeBytes == 2 || sizeBytes == 4
                || sizeBytes == 8) || (offset & (sizeBytes - 1)) != 0) {
            counters.increment(E1000Counter.ODD_ACCESS_SIZE);
            return 0;
        }
        if (sizeBytes == 8) {
            return (readRegister((int) offset) & 0xFFFF_FFFFL) | ((long) readRegister((int) offset + 4) << 32);
        }
        final int dword = readRegister((int) offset & ~3);
        if (sizeBytes == 4) {
            return dword & 0xFFFF_FFFFL;
        }
        counters.increment(E1000Counter.ODD_ACCESS_SIZE);
        final int shift = (int) (offset & 3) * 8;
        return (dword >>> shift) & (sizeBytes == 1 ? 0xFF : 0xFFFF);
    }

    /** A BAR0 write; sub-dword writes merge into the register's stored value, then dispatch. */
    public void mmioWrite(final long offset, final int sizeBytes, final long value) {
        if (offset < 0 || offset + sizeBytes > MMIO_BYTES || !(sizeBytes == 1 || sizeBytes == 2 || sizeBytes == 4
                || sizeBytes == 8) || (offset & (sizeBytes - 1)) != 0) {
            counters.increment(E1000Counter.ODD_ACCESS_SIZE);
            return;
        }
        if (sizeBytes == 8) {
            writeRegister((int) offset, (int) value);
            writeRegister((int) offset + 4, (int) (value >>> 32));
            return;
        }
        if (sizeBytes == 4) {
            writeRegister((int) offset, (int) value);
            return;
        }
        counters.increment(E1000Counter.ODD_ACCESS_SIZE);
        final int shift = (int) (offset & 3) * 8;
        final int mask = (sizeBytes == 1 ? 0xFF : 0xFFFF) << shift;
        final int aligned = (int) offset & ~3;
        writeRegister(aligned, (table.get(aligned) & ~mask) | (((int) value << shift) & mask));
    }

    private int readRegister(final int offset) {
        final int index = offset >>> 2;
        if ((table.flags(index) & RegisterTable.READABLE) == 0) {
            counters.increment(E1000Counter.UNKNOWN_REGISTER_READ);
            return 0;
        }
        return table.read(index);
    }

    private void writeRegister(final int offset, final int value) {
        final int index = offset >>> 2;
        final int flags = table.flags(index);
        if ((flags & RegisterTable.WRITABLE) != 0) {
            table.write(index, value);
        } else {
            counters.increment(flags == 0 ? E1000Counter.UNKNOWN_REGISTER_WRITE
                : E1000Counter.READ_ONLY_REGISTER_WRITE);
        }
    }

    /** A BAR1 (I/O) read: IOADDR, or the register IOADDR selects through IODATA (SDM 13.2). */
    public int ioRead(final int offset, final int sizeBytes) {
        if (offset == IOADDR && sizeBytes == 4) {
            return ioAddress;
        }
        if (offset == IODATA && sizeBytes == 4) {
            return (int) mmioRead(ioAddress, 4);
        }
        counters.increment(E1000Counter.IO_RESERVED_ACCESS);
        return 0;
    }

    /** A BAR1 (I/O) write: IOADDR selects a register (bits 16:0, dword aligned), IODATA writes it. */
    public void ioWrite(final int offset, final int sizeBytes, final int value) {
        if (offset == IOADDR && sizeBytes == 4) {
            ioAddress = value & (MMIO_BYTES - 4);
        } else if (offset == IODATA && sizeBytes == 4) {
            mmioWrite(ioAddress, 4, value & 0xFFFF_FFFFL);
        } else {
            counters.increment(E1000Counter.IO_RESERVED_ACCESS);
        }
    }

    /** @return the register at {@code offset} as stored, without read side effects (for dumps and tests) */
    public int peek(final int offset) {
        return table.get(offset & (MMIO_BYTES - 4));
    }

    /** @return EEPROM word {@code address} (what {@code ethtool -e} should show) */
    public int eepromWord(final int address) {
        return eeprom.word(address);
    }

    /** @return PHY register {@code register}, without read side effects */
    public int phyRegister(final int register) {
        return phy.readable(register) && register != M88E1011Phy.ISR ? phy.read(register) : 0;
    }

    /** @return the device's counters */
    public CounterSet<E1000Counter> counters() {
        return counters;
    }

    @Override
    public void close() {
        transmit.close();
        receive.close();
    }
}

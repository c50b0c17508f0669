package io.vioplane.e1000.testkit;

import io.vioplane.e1000.E1000Counter;
import io.vioplane.e1000.E1000Device;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.virtionet.port.NetPort;

import java.util.ArrayList;
import java.util.List;

import static io.vioplane.e1000.E1000Registers.*;

/**
 * A small 82540EM driver for tests, written from the SDM's register semantics (chapter 14, "General initialization
 * and reset operation"): resets the device through the I/O window (as drivers for the 8254x do), reads the EEPROM
 * by bit-banging EECD and through EERD, talks to the PHY over MDIC, sets up a transmit and a receive ring in its own
 * {@link GuestMemory}, and moves frames. Tests that need hostile input write descriptors directly.
 *
 * <pre>
 *   MEMORY_GPA + 0x000000  TX ring (TX_RING_SIZE x 16)
 *   MEMORY_GPA + 0x001000  RX ring (RX_RING_SIZE x 16)
 *   MEMORY_GPA + 0x010000  TX buffers, TX_BUFFER_BYTES each (the last one 128 KiB for TSO)
 *   MEMORY_GPA + 0x200000  RX buffers, 16 KiB each
 * </pre>
 */
public final class E1000TestDriver implements AutoCloseable {
    public static final long MEMORY_GPA = 0x10_0000L;
    public static final long MEMORY_BYTES = 0x40_0000L;
    public static final long TX_RING_GPA = MEMORY_GPA;
    public static final long RX_RING_GPA = MEMORY_GPA + 0x1000;
    public static final long TX_BUFFERS_GPA = MEMORY_GPA + 0x1_0000;
    public static final long TSO_BUFFER_GPA = MEMORY_GPA + 0x10_0000;
    public static final long RX_BUFFERS_GPA = MEMORY_GPA + 0x20_0000;
    public static final int TX_RING_SIZE = 64;
    public static final int RX_RING_SIZE = 64;
    public static final int TX_BUFFER_BYTES = 0x4000;
    public static final int RX_BUFFER_BYTES = 0x4000;

    private final GuestMemory memory = GuestMemory.ofMemFd(MEMORY_GPA, MEMORY_BYTES);
    private final CapturePort port;
    private final ManualClock clock = new ManualClock();
    private final List<Boolean> lineChanges = new ArrayList<>();
    private final E1000Device device;
    private int txTail;
    private int rxNext;

    /** A driver whose device transmits to, and receives from, a {@link CapturePort}. */
    public E1000TestDriver() {
        this(new CapturePort());
    }

    /** A driver whose device is attached to {@code netPort} ({@link #port()} is then null unless it captures). */
    public E1000TestDriver(final NetPort netPort) {
        port = netPort instanceof CapturePort capture ? capture : null;
        device = new E1000Device(memory, netPort, lineChanges::add, clock, Frames.DEVICE_MAC,
            CounterSet.unpublished(E1000Counter.class));
    }

    public E1000Device device() {
        return device;
    }

    public GuestMemory memory() {
        return memory;
    }

    public CapturePort port() {
        return port;
    }

    public ManualClock clock() {
        return clock;
    }

    /** @return every level the interrupt line was driven to, in order */
    public List<Boolean> lineChanges() {
        return lineChanges;
    }

    /** @return the device's count of {@code kind} */
    public long count(final E1000Counter kind) {
        return device.counters().get(kind);
    }

    public int read(final int offset) {
        return (int) device.mmioRead(offset, 4);
    }

    public void write(final int offset, final int value) {
        device.mmioWrite(offset, 4, value & 0xFFFF_FFFFL);
    }

    /** Resets the device through IOADDR/IODATA, masks every interrupt, and lets auto-negotiation finish. */
    public void reset() {
        device.ioWrite(IOADDR, 4, CTRL);
        device.ioWrite(IODATA, 4, read(CTRL) | CTRL_RST);
        write(IMC, -1);
        device.poll(0);
        read(ICR);
        txTail = 0;
        rxNext = 0;
    }

    /** Reads an EEPROM word by Microwire bit-banging (SDM 5.3.1): CS, opcode 110, 6 address bits, 16 data bits. */
    public int readEepromBitBang(final int address) {
        write(EECD, EECD_REQ);
        if ((read(EECD) & EECD_GNT) == 0) {
            throw new IllegalStateException("EEPROM access not granted");
        }
        write(EECD, EECD_REQ | EECD_CS);
        final int command = (0b110 << 6) | (address & 0x3F);
        for (int bit = 8; bit >= 0; bit--) {
            final int di = ((command >>> bit) & 1) != 0 ? EECD_DI : 0;
            write(EECD, EECD_REQ | EECD_CS | di);
            write(EECD, EECD_REQ | EECD_CS | di | EECD_SK);
            write(EECD, EECD_REQ | EECD_CS | di);
        }
        int word = 0;
        for (int bit = 0; bit < 16; bit++) {
            write(EECD, EECD_REQ | EECD_CS | EECD_SK);
            word = (word << 1) | ((read(EECD) & EECD_DO) != 0 ? 1 : 0);
            write(EECD, EECD_REQ | EECD_CS);
        }
        write(EECD, 0);
        return word;
    }

    /** Reads an EEPROM word through EERD. */
    public int readEepromEerd(final int address) {
        write(EERD, EERD_START | (address << EERD_ADDR_SHIFT));
        final int value = read(EERD);
        if ((value & EERD_DONE) == 0) {
            throw new IllegalStateException("EERD not done");
        }
        return value >>> EERD_DATA_SHIFT;
    }

    /** @return MDIC after a read of PHY {@code phy} register {@code register} */
    public int mdicRead(final int phy, final int register) {
        write(MDIC, MDIC_OP_READ | (phy << MDIC_PHY_SHIFT) | (register << MDIC_REG_SHIFT));
        return read(MDIC);
    }

    /** @return MDIC after a write */
    public int mdicWrite(final int phy, final int register, final int value) {
        write(MDIC, MDIC_OP_WRITE | (phy << MDIC_PHY_SHIFT) | (register << MDIC_REG_SHIFT) | (value & 0xFFFF));
        return read(MDIC);
    }

    /** Sets up both rings and enables transmit and receive with {@code rctlExtra} (BSIZE 16 KiB unless given). */
    public void start(final int rctlExtra) {
        write(TDBAL, (int) TX_RING_GPA);
        write(TDBAH, 0);
        write(TDLEN, TX_RING_SIZE * DESCRIPTOR_BYTES);
        write(TDH, 0);
        write(TDT, 0);
        write(TCTL, TCTL_EN | TCTL_PSP);
        write(RDBAL, (int) RX_RING_GPA);
        write(RDBAH, 0);
        write(RDLEN, RX_RING_SIZE * DESCRIPTOR_BYTES);
        write(RDH, 0);
        for (int i = 0; i < RX_RING_SIZE; i++) {
            writeRxDescriptor(i, RX_BUFFERS_GPA + (long) i * RX_BUFFER_BYTES);
        }
        write(RDT, RX_RING_SIZE - 1);
        final int sizing = (rctlExtra & ((3 << RCTL_BSIZE_SHIFT) | RCTL_BSEX)) != 0 ? 0
            : RCTL_BSEX | (1 << RCTL_BSIZE_SHIFT);
        write(RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC | sizing | rctlExtra);
    }

    /** Gives descriptor {@code index} a buffer at {@code bufferGpa} and clears its status. */
    public void writeRxDescriptor(final int index, final long bufferGpa) {
        final long at = RX_RING_GPA + (long) index * DESCRIPTOR_BYTES;
        memory.putLong(at, bufferGpa);
        memory.putLong(at + 8, 0);
    }

    /** Writes raw transmit descriptor {@code index}. */
    public void writeTxDescriptor(final int index, final long addressOrOffsets, final int lower, final int upper) {
        final long at = TX_RING_GPA + (long) index * DESCRIPTOR_BYTES;
        memory.putLong(at, addressOrOffsets);
        memory.putInt(at + 8, lower);
        memory.putInt(at + 12, upper);
    }

    /** @return the status byte of transmit descriptor {@code index} */
    public int txStatus(final int index) {
        return memory.getByte(TX_RING_GPA + (long) index * DESCRIPTOR_BYTES + 12) & 0xFF;
    }

    /** Queues descriptors without ringing the doorbell; returns the next free index. */
    public int queueTx(final long address, final int lower, final int upper) {
        writeTxDescriptor(txTail, address, lower, upper);
        txTail = (txTail + 1) % TX_RING_SIZE;
        return txTail;
    }

    /** Writes TDT to the driver's tail (the doorbell). */
    public void ringTx() {
        write(TDT, txTail);
    }

    /** Sends one frame in one legacy descriptor with EOP|IFCS|RS. */
    public void sendLegacy(final byte[] frame) {
        final long buffer = TX_BUFFERS_GPA + (long) txTail * TX_BUFFER_BYTES;
        memory.writeBytes(buffer, frame);
        queueTx(buffer, frame.length | ((0x01 | 0x02 | 0x08) << 24), 0);
        ringTx();
    }

    /** Places {@code bytes} in transmit buffer {@code slot} and returns its address. */
    public long txBuffer(final int slot, final byte[] bytes) {
        final long buffer = TX_BUFFERS_GPA + (long) slot * TX_BUFFER_BYTES;
        memory.writeBytes(buffer, bytes);
        return buffer;
    }

    /**
     * Collects the next received frame (following descriptors to EOP), gives the descriptors back, and advances
     * RDT.
     *
     * @return the frame, or null if the next descriptor is not done
     */
    public Received receive() {
        final long first = RX_RING_GPA + (long) rxNext * DESCRIPTOR_BYTES;
        if ((memory.getByte(first + 12) & 0x01) == 0) {
            return null;
        }
        final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        int descriptors = 0;
        while (true) {
            final long at = RX_RING_GPA + (long) rxNext * DESCRIPTOR_BYTES;
            final int status = memory.getByte(at + 12) & 0xFF;
            if ((status & 0x01) == 0) {
                throw new IllegalStateException("frame ends in a descriptor that is not done");
            }
            final int length = memory.getShort(at + 8) & 0xFFFF;
            final long buffer = memory.getLong(at);
            bytes.writeBytes(memory.readBytes(buffer, length));
            descriptors++;
            final Received last = new Received(bytes.toByteArray(), status, memory.getByte(at + 13) & 0xFF,
                memory.getShort(at + 14) & 0xFFFF, memory.getShort(at + 10) & 0xFFFF, descriptors);
            memory.putLong(at + 8, 0);
            write(RDT, rxNext);
            rxNext = (rxNext + 1) % RX_RING_SIZE;
            if ((status & 0x02) != 0) {
                return last;
            }
        }
    }

    /**
     * One received frame.
     *
     * @param frame       the bytes from all its descriptors
     * @param status      the last descriptor's status
     * @param errors      the last descriptor's errors
     * @param special     the VLAN tag (with status VP)
     * @param checksum    the packet checksum field
     * @param descriptors how many descriptors it took
     */
    public record Received(byte[] frame, int status, int errors, int special, int checksum, int descriptors) {
    }

    @Override
    public void close() {
        device.close();
        memory.close();
    }
}

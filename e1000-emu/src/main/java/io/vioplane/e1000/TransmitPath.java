package io.vioplane.e1000;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.NetPort;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.vioplane.e1000.E1000Registers.*;
import static io.vioplane.e1000.FrameChecksums.U16_BE;
import static io.vioplane.e1000.FrameChecksums.U32_BE;

/**
 * The transmit data path (SDM 3.3 and 3.4): walks the ring from TDH to TDT, decodes legacy (3.3.3), context
 * (3.3.6) and data (3.3.7) descriptors, gathers each packet into the device's packet buffer, applies checksum
 * offload and TCP segmentation (3.5), inserts the VLAN tag (CTRL.VME with VLE), hands frames to the
 * {@link NetPort}, writes DD back for descriptors with RS, and raises TXDW, TXQE and TXD_LOW.
 *
 * <p>Guest values are read once per descriptor. A kick processes at most one ring's worth of descriptors (the TDH
 * wrap guard); a packet longer than the ring or the packet buffer, a buffer outside guest memory, and TSO contexts
 * that cannot be honoured drop the packet (counted) while the ring keeps moving. Nothing is allocated per frame.
 *
 * <pre>
 *   legacy: +0 addr u64 | +8 LENGTH u16 | CSO u8 | CMD u8 | +12 STA u8 | CSS u8 | SPECIAL u16
 *   data:   +0 addr u64 | +8 DTALEN[19:0] | DTYP=1 | DCMD u8 | +12 STA u8 | POPTS u8 | SPECIAL u16
 *   CMD/DCMD: EOP 0x01, IFCS 0x02, IC/TSE 0x04, RS 0x08, DEXT 0x20, VLE 0x40, IDE 0x80; POPTS: IXSM 1, TXSM 2
 * </pre>
 */
final class TransmitPath implements AutoCloseable {
    static final int CMD_EOP = 0x01;
    static final int CMD_IC = 0x04;
    static final int CMD_TSE = 0x04;
    static final int CMD_RS = 0x08;
    static final int CMD_DEXT = 0x20;
    static final int CMD_VLE = 0x40;
    static final int CMD_IDE = 0x80;
    static final int STA_DD = 0x01;
    static final int POPTS_IXSM = 0x01;
    static final int POPTS_TXSM = 0x02;
    /** The largest packet the buffer gathers (a 64 KiB TSO payload plus its headers). */
    static final int MAX_PACKET_BYTES = 65536 + 256;
    private static final int DTYP_MASK = 0xF << 20;
    private static final int DTYP_DATA = 1 << 20;
    private static final int VLAN_BYTES = 4;
    private static final int START = VLAN_BYTES;

    private final int[] values;
    private final DmaSpace dma;
    private final NetPort port;
    private final Statistics statistics;
    private final InterruptCauses interrupts;
    private final CounterSet<E1000Counter> counters;
    private final DescriptorRing ring;
    private final ReceivePath loopback;
    private final M88E1011Phy phy;
    private final DmaRange buffer = new DmaRange();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment packet = arena.allocate(START + MAX_PACKET_BYTES, 8);
    private final MemorySegment savedHeader = arena.allocate(256, 8);
    private final BufferTxFrame frame = new BufferTxFrame();
    private final TransmitContext checksumContext = new TransmitContext();
    private final TransmitContext segmentationContext = new TransmitContext();

    private boolean busy;
    private int size;
    private int descriptors;
    private boolean dropping;
    private boolean segmenting;
    private int options;
    private boolean vlan;
    private int vlanTag;
    private int segments;
    private int payloadSeen;

    TransmitPath(final int[] values, final DmaSpace dma, final NetPort port, final Statistics statistics,
                 final InterruptCauses interrupts, final CounterSet<E1000Counter> counters, final ReceivePath loopback,
                 final M88E1011Phy phy) {
        this.values = values;
        this.dma = dma;
        this.port = port;
        this.statistics = statistics;
        this.interrupts = interrupts;
        this.counters = counters;
        this.ring = new DescriptorRing(dma, counters);
        this.loopback = loopback;
        this.phy = phy;
    }

    private int reg(final int offset) {
        return values[offset >>> 2];
    }

    /**
     * Transmits what the guest queued between TDH and TDT (a TDT or TCTL write). Not re-entrant: a register write
     * made while a kick runs (from an interrupt-line or port callback) is picked up by the next kick.
     */
    void kick() {
        if ((reg(TCTL) & TCTL_EN) == 0 || busy) {
            return;
        }
        busy = true;
        try {
            transmitQueued();
        } finally {
            busy = false;
        }
    }

    private void transmitQueued() {
        final int tail = reg(TDT);
        int head = reg(TDH);
        if (head == tail || !ring.map(reg(TDBAL), reg(TDBAH), reg(TDLEN), head, tail)) {
            return;
        }
        int causes = ICR_TXQE;
        boolean delayed = false;
        final MemorySegment descriptors = ring.segment();
        for (int budget = ring.count(); head != tail && budget > 0; budget--) {
            final long at = ring.offset(head);
            final long address = descriptors.get(LittleEndian.U64, at);
            final int lower = descriptors.get(LittleEndian.U32, at + 8);
            final int upper = descriptors.get(LittleEndian.U32, at + 12);
            process(address, lower, upper);
            final int command = lower >>> 24;
            if ((command & CMD_RS) != 0) {
                descriptors.set(ValueLayout.JAVA_BYTE, at + 12, (byte) ((upper & 0xF0) | STA_DD));
                causes |= ICR_TXDW;
                delayed |= (command & CMD_IDE) != 0;
            }
            head = ring.next(head);
        }
        values[TDH >>> 2] = head;
        port.flush(0);
        final int lowThreshold = (reg(TXDCTL) >>> 25) * 8;
        if (lowThreshold != 0 && ring.distance(head, tail) < lowThreshold) {
            causes |= ICR_TXD_LOW;
        }
        interrupts.raiseTransmit(causes, delayed);
    }

    private void process(final long address, final int lower, final int upper) {
        final boolean extended = (lower & (CMD_DEXT << 24)) != 0;
        if (extended && (lower & DTYP_MASK) == 0) {
            loadContext(address, lower, upper);
            return;
        }
        final int command = lower >>> 24;
        final boolean data = extended && (lower & DTYP_MASK) == DTYP_DATA;
        final int length = data ? lower & 0xF_FFFF : lower & 0xFFFF;
        if (descriptors == 0) {
            startPacket(data, command, upper);
        }
        descriptors++;
        if (descriptors > ring.count() && !dropping) {
            counters.increment(E1000Counter.TX_PACKET_LONGER_THAN_RING);
            dropping = true;
        }
        if ((command & CMD_VLE) != 0 && (command & CMD_EOP) != 0) {
            vlan = (reg(CTRL) & CTRL_VME) != 0;
            vlanTag = upper >>> 16;
        }
        if (length == 0) {
            counters.increment(E1000Counter.TX_ZERO_LENGTH);
        } else if (!dropping) {
            gather(address, length);
        }
        if ((command & CMD_EOP) != 0) {
            endPacket(data ? 0 : lower, upper);
        }
    }

    private void loadContext(final long offsets, final int lower, final int upper) {
        if (descriptors != 0) {
            counters.increment(E1000Counter.TX_CONTEXT_MID_PACKET);
            resetPacket();
        }
        final boolean tso = ((lower >>> 24) & TransmitContext.TUCMD_TSE) != 0;
        (tso ? segmentationContext : checksumContext).load(offsets, lower, upper);
    }

    private void startPacket(final boolean data, final int command, final int upper) {
        segmenting = data && (command & CMD_TSE) != 0;
        options = data ? (upper >>> 8) & 0xFF : 0;
        segments = 0;
        payloadSeen = 0;
        if (segmenting && !segmentationUsable()) {
            dropping = true;
        }
    }

    private boolean segmentationUsable() {
        final TransmitContext context = segmentationContext;
        if (context.mss == 0) {
            counters.increment(E1000Counter.TSO_MSS_ZERO);
            return false;
        }
        final int header = context.headerBytes;
        if (header < 14 || context.ipStart + 20 > header || context.transportStart + 8 > header
                || context.transportField + 2 > header || context.ipField + 2 > header
                || (context.tcp() && context.transportStart + 20 > header)) {
            counters.increment(E1000Counter.TSO_HEADER_PAST_DATA);
            return false;
        }
        return true;
    }

    private void gather(final long address, final int length) {
        long from = address;
        int remaining = length;
        while (remaining > 0 && !dropping) {
            int chunk = remaining;
            if (segmenting) {
                final int segmentEnd = segmentationContext.headerBytes + segmentationContext.mss;
                chunk = Math.min(chunk, segmentEnd - size);
            }
            if (size + chunk > MAX_PACKET_BYTES) {
                counters.increment(E1000Counter.TX_PACKET_TOO_LONG);
                dropping = true;
                return;
            }
            if (!dma.resolve(from, chunk, AccessMode.READ, buffer)) {
                counters.increment(E1000Counter.TX_BUFFER_OUTSIDE_MEMORY);
                dropping = true;
                return;
            }
            MemorySegment.copy(buffer.segment(), buffer.offset(), packet, START + size, chunk);
            final int before = size;
            size += chunk;
            from += chunk;
            remaining -= chunk;
            if (segmenting) {
                segmentFilled(before);
            }
        }
    }

    private void segmentFilled(final int before) {
        final int header = segmentationContext.headerBytes;
        if (before < header && size >= header) {
            MemorySegment.copy(packet, START, savedHeader, 0, header);
        }
        if (size == header + segmentationContext.mss) {
            payloadSeen += segmentationContext.mss;
            final boolean last = payloadSeen >= segmentationContext.payloadBytes;
            emitSegment(last);
            MemorySegment.copy(savedHeader, 0, packet, START, header);
            size = header;
        }
    }

    private void endPacket(final int legacyLower, final int upper) {
        if (dropping) {
            if (segmenting) {
                statistics.increment(TSCTFC);
            }
        } else if (segmenting) {
            final int header = segmentationContext.headerBytes;
            if (size < header) {
                counters.increment(E1000Counter.TSO_HEADER_PAST_DATA);
                statistics.increment(TSCTFC);
            } else {
                if (size > header || segments == 0) {
                    payloadSeen += size - header;
                    emitSegment(true);
                }
                if (payloadSeen != segmentationContext.payloadBytes) {
                    counters.increment(E1000Counter.TSO_PAYLOAD_MISMATCH);
                }
                statistics.increment(TSCTC);
            }
        } else {
            if (legacyLower != 0 && ((legacyLower >>> 24) & CMD_IC) != 0) {
                insertChecksum((upper >>> 8) & 0xFF, 0, (legacyLower >>> 16) & 0xFF);
            } else if (options != 0) {
                applyContextChecksums(checksumContext);
            }
            send();
        }
        resetPacket();
    }

    private void resetPacket() {
        size = 0;
        descriptors = 0;
        dropping = false;
        segmenting = false;
        options = 0;
        vlan = false;
        segments = 0;
        payloadSeen = 0;
    }

    private void emitSegment(final boolean last) {
        final TransmitContext context = segmentationContext;
        final long base = START;
        final int ipStart = context.ipStart;
        if (context.ipv4()) {
            packet.set(U16_BE, base + ipStart + 2, (short) (size - ipStart));
            final int id = packet.get(U16_BE, base + ipStart + 4) & 0xFFFF;
            packet.set(U16_BE, base + ipStart + 4, (short) (id + segments));
        } else {
            packet.set(U16_BE, base + ipStart + 4, (short) (size - ipStart - 40));
        }
        final int transportStart = context.transportStart;
        final int transportBytes = size - transportStart;
        if (context.tcp()) {
            final int sequence = packet.get(U32_BE, base + transportStart + 4);
            packet.set(U32_BE, base + transportStart + 4, sequence + segments * context.mss);
            if (!last) {
                final long flags = base + transportStart + 13;
                packet.set(ValueLayout.JAVA_BYTE, flags, (byte) (packet.get(ValueLayout.JAVA_BYTE, flags) & ~0x09));
            }
        } else {
            packet.set(U16_BE, base + transportStart + 4, (short) transportBytes);
        }
        if ((options & POPTS_TXSM) != 0) {
            FrameChecksums.addToField(packet, base + context.transportField, transportBytes);
        }
        applyContextChecksums(context);
        segments++;
        send();
    }

    private void applyContextChecksums(final TransmitContext context) {
        if ((options & POPTS_TXSM) != 0) {
            insertChecksum(context.transportStart, context.transportEnd, context.transportField);
        }
        if ((options & POPTS_IXSM) != 0) {
            insertChecksum(context.ipStart, context.ipEnd, context.ipField);
        }
    }

    private void insertChecksum(final int start, final int end, final int field) {
        if (!FrameChecksums.insert(packet, START, size, start, end, field)) {
            counters.increment(E1000Counter.TX_CHECKSUM_OUTSIDE_FRAME);
        }
    }

    private void send() {
        long offset = START;
        int length = size;
        if (vlan && size >= 12) {
            MemorySegment.copy(packet, START, packet, 0, 12);
            packet.set(U16_BE, 12, (short) reg(VET));
            packet.set(U16_BE, 14, (short) vlanTag);
            offset = 0;
            length = size + VLAN_BYTES;
        }
        final int high = packet.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset) & 0xFFFF;
        final boolean group = (high & 1) != 0;
        final boolean broadcast = group && high == 0xFFFF
            && packet.get(ValueLayout.JAVA_INT_UNALIGNED, offset + 2) == -1;
        statistics.transmitted(length + 4, broadcast, group && !broadcast);
        counters.increment(E1000Counter.TX_FRAMES);
        if (phy.loopback()) {
            loopback.deliver(packet, offset, length, null);
        } else if (!port.transmit(0, frame.wrap(packet, offset, length))) {
            counters.increment(E1000Counter.TX_PORT_DROPS);
        }
        if (offset == 0) {
            MemorySegment.copy(packet, 0, packet, START, 12);
        }
    }

    /** Forgets the packet in progress and both contexts (device reset). */
    void reset() {
        resetPacket();
        checksumContext.clear();
        segmentationContext.clear();
    }

    @Override
    public void close() {
        arena.close();
    }
}

package io.vioplane.e1000;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.platform.packet.InternetChecksum;
import io.vioplane.virtionet.port.RxDestination;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.vioplane.e1000.E1000Registers.*;
import static io.vioplane.e1000.FrameChecksums.U16_BE;

/**
 * The receive data path (SDM 3.2): frames from the port pass the {@link ReceiveFilter}, lose their 802.1Q tag when
 * CTRL.VME is set (the tag goes to the descriptor's special field with status VP), gain the FCS unless RCTL.SECRC,
 * and are written into as many receive buffers (size from RCTL.BSIZE/BSEX) as they need, each descriptor written
 * back with length, packet checksum, status (DD, EOP, IXSM, VP, TCPCS, IPCS) and errors (TCPE, IPE, RXE). A frame
 * that does not fit in the buffers the guest left is missed (MPC, RXO); RXT0 follows RDTR/RADV; RXDMT0 fires when
 * the free descriptors fall to RDLEN / 2^(RDMTS+1).
 *
 * <pre>
 *   receive descriptor: +0 addr u64 | +8 length u16 | +10 csum u16 | +12 status u8 | +13 errors u8 | +14 special u16
 * </pre>
 */
final class ReceivePath implements RxDestination, AutoCloseable {
    static final int STA_DD = 0x01;
    static final int STA_EOP = 0x02;
    static final int STA_IXSM = 0x04;
    static final int STA_VP = 0x08;
    static final int STA_TCPCS = 0x20;
    static final int STA_IPCS = 0x40;
    static final int ERR_TCPE = 0x20;
    static final int ERR_IPE = 0x40;
    static final int ERR_RXE = 0x80;
    /** Largest frame accepted with RCTL.LPE (FCS excluded). */
    static final int MAX_LONG_FRAME_BYTES = 16384;
    private static final int MAX_FRAME_BYTES = 1514;
    private static final int MIN_FRAME_BYTES = 60;

    private final int[] values;
    private final DmaSpace dma;
    private final ReceiveFilter filter;
    private final Statistics statistics;
    private final InterruptCauses interrupts;
    private final CounterSet<E1000Counter> counters;
    private final M88E1011Phy phy;
    private final DescriptorRing ring;
    private final DmaRange buffer = new DmaRange();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment staging = arena.allocate(MAX_LONG_FRAME_BYTES + 8, 8);
    private final MemorySegment fcsBytes = arena.allocate(4, 4);
    private final MemorySegment zeros = arena.allocate(MIN_FRAME_BYTES, 8);

    ReceivePath(final int[] values, final DmaSpace dma, final ReceiveFilter filter, final Statistics statistics,
                final InterruptCauses interrupts, final CounterSet<E1000Counter> counters, final M88E1011Phy phy) {
        this.values = values;
        this.dma = dma;
        this.filter = filter;
        this.statistics = statistics;
        this.interrupts = interrupts;
        this.counters = counters;
        this.phy = phy;
        this.ring = new DescriptorRing(dma, counters);
    }

    private int reg(final int offset) {
        return values[offset >>> 2];
    }

    /** @return the receive buffer size RCTL selects (SDM 13.4.22: BSIZE, times 16 with BSEX) */
    static int bufferBytes(final int rctl) {
        final int size = 2048 >>> ((rctl >>> RCTL_BSIZE_SHIFT) & 3);
        return (rctl & RCTL_BSEX) != 0 ? (size == 2048 ? 2048 : size * 16) : size;
    }

    private boolean receiving() {
        return (reg(RCTL) & RCTL_EN) != 0 && phy.linkUp();
    }

    @Override
    public boolean hasRoom() {
        return receiving() && reg(RDH) != reg(RDT);
    }

    @Override
    public boolean deliver(final MemorySegment source, final long offset, final int lengthBytes,
                           final NetHeaderValues header) {
        final int rctl = reg(RCTL);
        if (!receiving()) {
            counters.increment(E1000Counter.RX_WHILE_DISABLED);
            return true;
        }
        if (lengthBytes < 14) {
            counters.increment(E1000Counter.RX_RUNT);
            statistics.increment(RUC);
            return true;
        }
        final boolean tagged = filter.isVlanTagged(source, offset) && lengthBytes >= 18;
        final int limit = (rctl & RCTL_LPE) != 0 ? MAX_LONG_FRAME_BYTES : MAX_FRAME_BYTES + (tagged ? 4 : 0);
        if (lengthBytes > limit) {
            counters.increment(E1000Counter.RX_OVERSIZED);
            statistics.increment(ROC);
            return true;
        }
        if (!filter.accepts(source, offset, lengthBytes)) {
            counters.increment(E1000Counter.RX_FILTERED);
            return true;
        }
        final int high = source.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset) & 0xFFFF;
        final boolean group = (high & 1) != 0;
        final boolean broadcast = group && high == 0xFFFF
            && source.get(ValueLayout.JAVA_INT_UNALIGNED, offset + 2) == -1;
        final int wireBytes = Math.max(lengthBytes, MIN_FRAME_BYTES) + 4;
        int special = 0;
        int status = 0;
        int length;
        if (tagged && (reg(CTRL) & CTRL_VME) != 0) {
            special = source.get(U16_BE, offset + 14) & 0xFFFF;
            status = STA_VP;
            MemorySegment.copy(source, offset, staging, 0, 12);
            MemorySegment.copy(source, offset + 16, staging, 12, lengthBytes - 16);
            length = lengthBytes - 4;
        } else {
            MemorySegment.copy(source, offset, staging, 0, lengthBytes);
            length = lengthBytes;
        }
        if (length < MIN_FRAME_BYTES) {
            MemorySegment.copy(zeros, 0, staging, length, MIN_FRAME_BYTES - length);
            length = MIN_FRAME_BYTES;
        }
        final int fcs = (rctl & RCTL_SECRC) != 0 ? 0 : 4;
        if (fcs != 0) {
            fcsBytes.set(LittleEndian.U32, 0, FrameChecksums.fcs(staging, 0, length));
        }
        if (writeToRing(length, fcs, status | checksumStatus(length), special)) {
            statistics.received(wireBytes, broadcast, group && !broadcast);
            counters.increment(E1000Counter.RX_FRAMES);
        }
        return true;
    }

    private boolean writeToRing(final int length, final int fcs, final int frameStatus, final int special) {
        final int tail = reg(RDT);
        int head = reg(RDH);
        if (!ring.map(reg(RDBAL), reg(RDBAH), reg(RDLEN), head, tail)) {
            counters.increment(E1000Counter.RX_MISSED);
            return false;
        }
        final int rctl = reg(RCTL);
        final int bufferBytes = bufferBytes(rctl);
        final int total = length + fcs;
        final int needed = (total + bufferBytes - 1) / bufferBytes;
        if (ring.distance(head, tail) < needed) {
            counters.increment(E1000Counter.RX_MISSED);
            statistics.increment(MPC);
            statistics.increment(RNBC);
            interrupts.raise(ICR_RXO);
            return false;
        }
        final MemorySegment descriptors = ring.segment();
        final int checksum = packetChecksum(length);
        int written = 0;
        for (int used = 0; written < total && used < ring.count() && head != tail; used++) {
            final long at = ring.offset(head);
            final long address = descriptors.get(LittleEndian.U64, at);
            final int chunk = Math.min(bufferBytes, total - written);
            int status = STA_DD;
            int errors = 0;
            int stored = 0;
            if (address == 0) {
                counters.increment(E1000Counter.RX_NULL_BUFFER);
            } else if (!dma.resolve(address, chunk, AccessMode.WRITE, buffer)) {
                counters.increment(E1000Counter.RX_BUFFER_OUTSIDE_MEMORY);
                errors = ERR_RXE;
                status |= STA_EOP;
                written = total;
            } else {
                copyOut(written, chunk, length);
                written += chunk;
                stored = chunk;
                if (written >= total) {
                    status |= STA_EOP | frameStatus;
                    errors = frameStatus >>> 8;
                }
            }
            descriptors.set(LittleEndian.U16, at + 8, (short) stored);
            descriptors.set(LittleEndian.U16, at + 10, (short) checksum);
            descriptors.set(ValueLayout.JAVA_BYTE, at + 13, (byte) errors);
            descriptors.set(LittleEndian.U16, at + 14, (short) special);
            descriptors.set(ValueLayout.JAVA_BYTE, at + 12, (byte) (status & 0xFF));
            head = ring.next(head);
        }
        values[RDH >>> 2] = head;
        int immediate = 0;
        final int free = ring.distance(head, tail);
        if ((long) free * DESCRIPTOR_BYTES <= (reg(RDLEN) >>> (((rctl >>> RCTL_RDMTS_SHIFT) & 3) + 1))) {
            immediate |= ICR_RXDMT0;
        }
        interrupts.raiseReceive(immediate);
        return written >= total;
    }

    private void copyOut(final int frameOffset, final int chunk, final int length) {
        final int dataBytes = Math.max(0, Math.min(chunk, length - frameOffset));
        MemorySegment.copy(staging, frameOffset, buffer.segment(), buffer.offset(), dataBytes);
        for (int i = dataBytes; i < chunk; i++) {
            final int fcsIndex = frameOffset + i - length;
            buffer.segment().set(ValueLayout.JAVA_BYTE, buffer.offset() + i,
                fcsBytes.get(ValueLayout.JAVA_BYTE, fcsIndex));
        }
    }

    private int packetChecksum(final int length) {
        final int start = reg(RXCSUM) & RXCSUM_PCSS_MASK;
        if (start >= length) {
            return 0;
        }
        long sum = InternetChecksum.sum(staging, start, length - start, 0);
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** @return the checksum status bits in the low byte and the error bits in the next, per RXCSUM */
    private int checksumStatus(final int length) {
        final int rxcsum = reg(RXCSUM);
        if ((rxcsum & (RXCSUM_IPOFL | RXCSUM_TUOFL)) == 0 || length < 34
                || (staging.get(U16_BE, 12) & 0xFFFF) != 0x0800) {
            return STA_IXSM;
        }
        final int versionAndLength = staging.get(ValueLayout.JAVA_BYTE, 14) & 0xFF;
        final int ipHeader = (versionAndLength & 0xF) * 4;
        if ((versionAndLength >>> 4) != 4 || ipHeader < 20 || 14 + ipHeader > length) {
            return STA_IXSM;
        }
        int result = 0;
        if ((rxcsum & RXCSUM_IPOFL) != 0) {
            final boolean good = InternetChecksum.finish(InternetChecksum.sum(staging, 14, ipHeader, 0)) == 0;
            result |= STA_IPCS | (good ? 0 : ERR_IPE << 8);
        }
        final int totalLength = staging.get(U16_BE, 16) & 0xFFFF;
        final int fragment = staging.get(U16_BE, 20) & 0x3FFF;
        final int protocol = staging.get(ValueLayout.JAVA_BYTE, 23) & 0xFF;
        final int transportBytes = totalLength - ipHeader;
        if ((rxcsum & RXCSUM_TUOFL) != 0 && fragment == 0 && (protocol == 6 || protocol == 17)
                && totalLength >= ipHeader + 8 && 14 + totalLength <= length) {
            final int transport = 14 + ipHeader;
            final boolean udpWithout = protocol == 17 && staging.get(U16_BE, transport + 6) == 0;
            if (!udpWithout) {
                long sum = InternetChecksum.sum(staging, 26, 8, protocol + transportBytes);
                sum = InternetChecksum.sum(staging, transport, transportBytes, sum);
                final boolean good = InternetChecksum.finish(sum) == 0;
                result |= STA_TCPCS | (good ? 0 : ERR_TCPE << 8);
            }
        }
        return result == 0 ? STA_IXSM : result;
    }

    /** @return true when frames waiting in the port should raise RNBC (the guest left no buffers) */
    boolean starved() {
        return receiving() && reg(RDH) == reg(RDT);
    }

    @Override
    public void close() {
        arena.close();
    }
}

package io.vioplane.virtionet.engine;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.vring.DescriptorChain;
import io.vioplane.vring.DeviceQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The control queue (VIRTIO 1.x 5.1.6.5): each request is {u8 class; u8 command; data} in device-readable
 * buffers followed by a device-writable {u8 ack}, the first writable byte. Answered here: receive modes (PROMISC, ALLMULTI), the MAC
 * tables and address, the number of queue pairs in use (MQ), and the ANNOUNCE acknowledgement. Anything else,
 * or a command whose data does not match its class, is answered VIRTIO_NET_ERR. A request with no writable
 * byte for the ack, or too short to hold a class and command, is returned unanswered and counted.
 */
public final class ControlQueueEngine extends QueueEngine {
    public static final int CLASS_RX = 0;
    public static final int CLASS_MAC = 1;
    public static final int CLASS_VLAN = 2;
    public static final int CLASS_ANNOUNCE = 3;
    public static final int CLASS_MQ = 4;
    public static final int RX_PROMISC = 0;
    public static final int RX_ALLMULTI = 1;
    public static final int MAC_TABLE_SET = 0;
    public static final int MAC_ADDR_SET = 1;
    public static final int ANNOUNCE_ACK = 0;
    public static final int MQ_VQ_PAIRS_SET = 0;
    public static final int OK = 0;
    public static final int ERR = 1;
    /** The largest control request read (two MAC tables of 64 entries plus headers fit). */
    public static final int MAX_REQUEST_BYTES = 2 + 2 * (4 + 6 * 256);

    /** What the control queue changes in the rest of the device. */
    interface DeviceControl {
        /** @return false if {@code pairs} is not acceptable */
        boolean setActiveQueuePairs(int pairs);

        /** The driver acknowledged a link announcement. */
        void announceAcknowledged();
    }

    private final RxFilter filter;
    private final VirtioNetConfig config;
    private final DeviceControl control;
    private final DescriptorChain chain;
    private final MemorySegment request = Arena.ofAuto().allocate(MAX_REQUEST_BYTES, 8);
    private final MemorySegment ack = Arena.ofAuto().allocate(1);
    private long answered;

    ControlQueueEngine(final int queueIndex, final DeviceQueue queue, final Interrupt interrupt,
                       final NetQueueCounters counters, final BrokenListener brokenListener, final RxFilter filter,
                       final VirtioNetConfig config, final DeviceControl control) {
        super(queueIndex, queue, interrupt, counters, brokenListener);
        this.filter = filter;
        this.config = config;
        this.control = control;
        this.chain = new DescriptorChain(64);
    }

    /** @return requests handled */
    int process() {
        int handled = 0;
        while (queue.pop(chain)) {
            handled++;
            if (chain.denied()) {
                counters.increment(NetQueueCounters.Kind.IOMMU_DENIED);
                queue.addUsed(chain, 0);
                continue;
            }
            if (chain.readableBytes() < 2 || chain.writableBytes() < 1) {
                counters.increment(NetQueueCounters.Kind.MALFORMED_HEADER);
                queue.addUsed(chain, 0);
                continue;
            }
            final int length = (int) Math.min(chain.readableBytes(), MAX_REQUEST_BYTES);
            chain.copyFromReadable(0, request, 0, length);
            final int status = enabled ? execute(length) : ERR;
            ack.set(ValueLayout.JAVA_BYTE, 0, (byte) status);
            chain.copyToWritable(0, ack, 0, 1);
            logWritten(chain, 1);
            queue.addUsed(chain, 1);
            answered++;
        }
        if (handled > 0) {
            finishBatch();
            counters.add(NetQueueCounters.Kind.PACKETS, handled);
        }
        checkBroken();
        return handled;
    }

    private int execute(final int length) {
        final int commandClass = request.get(ValueLayout.JAVA_BYTE, 0) & 0xFF;
        final int command = request.get(ValueLayout.JAVA_BYTE, 1) & 0xFF;
        final int dataBytes = length - 2;
        return switch (commandClass) {
            case CLASS_RX -> receiveMode(command, dataBytes);
            case CLASS_MAC -> mac(command, dataBytes);
            case CLASS_MQ -> queuePairs(command, dataBytes);
            case CLASS_ANNOUNCE -> {
                if (command != ANNOUNCE_ACK) {
                    yield ERR;
                }
                control.announceAcknowledged();
                yield OK;
            }
            default -> ERR;
        };
    }

    private int receiveMode(final int command, final int dataBytes) {
        if (dataBytes < 1) {
            return ERR;
        }
        final boolean on = request.get(ValueLayout.JAVA_BYTE, 2) != 0;
        switch (command) {
            case RX_PROMISC -> filter.promiscuous(on);
            case RX_ALLMULTI -> filter.allMulticast(on);
            default -> {
                return ERR;
            }
        }
        return OK;
    }

    private int mac(final int command, final int dataBytes) {
        if (command == MAC_ADDR_SET) {
            if (dataBytes != 6) {
                return ERR;
            }
            final byte[] mac = request.asSlice(2, 6).toArray(ValueLayout.JAVA_BYTE);
            config.mac(mac);
            filter.deviceMac(mac);
            return OK;
        }
        if (command != MAC_TABLE_SET || dataBytes < 8) {
            return ERR;
        }
        final long unicastEntries = Integer.toUnsignedLong(request.get(LittleEndian.U32, 2));
        final long unicastBytes = 6 * unicastEntries;
        if (unicastEntries > 256 || 4 + unicastBytes + 4 > dataBytes) {
            return ERR;
        }
        final long multicastAt = 2 + 4 + unicastBytes;
        final long multicastEntries = Integer.toUnsignedLong(request.get(LittleEndian.U32, multicastAt));
        if (multicastEntries > 256 || 4 + unicastBytes + 4 + 6 * multicastEntries != dataBytes) {
            return ERR;
        }
        filter.unicastTable(request.asSlice(6, unicastBytes), (int) unicastEntries);
        filter.multicastTable(request.asSlice(multicastAt + 4, 6 * multicastEntries), (int) multicastEntries);
        return OK;
    }

    private int queuePairs(final int command, final int dataBytes) {
        if (command != MQ_VQ_PAIRS_SET || dataBytes != 2) {
            return ERR;
        }
        final int pairs = request.get(LittleEndian.U16, 2) & 0xFFFF;
        return control.setActiveQueuePairs(pairs) ? OK : ERR;
    }

    /** @return requests answered */
    long answered() {
        return answered;
    }
}

package io.vioplane.vhostuser.frontend;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * An in-process virtio-net front-end over vhost-user: its own guest memory (one memfd region it shares with the
 * back-end), the driver side of one queue pair (split or packed), kick and call eventfds, and the negotiation
 * QEMU or DPDK would do. Sends and receives frames like a guest driver; used by tests and by the latency
 * benchmark of the echo path.
 *
 * <pre>
 *   gpa 0x0000_0000  receive ring areas      gpa 0x0010_0000  transmit ring areas
 *   gpa 0x0100_0000  transmit buffers        gpa 0x0200_0000  receive buffers (2 KiB each)
 * </pre>
 *
 * The front-end's "user addresses" are gpa + {@link #USER_ADDRESS_OFFSET}, as a real front-end's would differ
 * from guest addresses. It polls its rings and asks the device for no used-buffer interrupts, as DPDK's
 * virtio-user does. Single-threaded.
 */
public final class NetFrontEnd implements AutoCloseable {
    /** Where this front-end pretends its guest memory lives in its own address space. */
    public static final long USER_ADDRESS_OFFSET = 0x7F00_0000_0000L;
    /** Bytes of each receive buffer. */
    public static final int RX_BUFFER_BYTES = 2048;
    private static final long MEMORY_BYTES = 0x0400_0000L;
    private static final long RX_RINGS = 0x0000_0000L;
    private static final long TX_RINGS = 0x0010_0000L;
    private static final long TX_BUFFERS = 0x0100_0000L;
    private static final long RX_BUFFERS = 0x0200_0000L;
    private static final long DRIVER_AREA = 0x8_0000L;
    private static final long DEVICE_AREA = 0xC_0000L;

    private final VhostUserFrontEnd control;
    private final GuestMemory memory = GuestMemory.ofMemFd(0, MEMORY_BYTES);
    private final DriverQueue rx;
    private final DriverQueue tx;
    private final EventFd rxKick = EventFd.create();
    private final EventFd txKick = EventFd.create();
    private final EventFd rxCall = EventFd.create();
    private final EventFd txCall = EventFd.create();
    private final long features;
    private final int queueSize;
    private final MemorySegment txBuffers;
    private final MemorySegment rxBuffers;
    private final int[] tokens;
    private final int[] lengths;
    private final long[] gpaScratch = new long[1];
    private final int[] lengthScratch = new int[1];
    private int nextTxSlot;

    /**
     * Connects, negotiates, shares memory, sets up and enables queue pair 0, and posts every receive buffer.
     *
     * @param wantedFeatures virtio features to accept if offered (VERSION_1 is always asked)
     */
    public NetFrontEnd(final Path socket, final long wantedFeatures, final int queueSize) {
        this.queueSize = queueSize;
        this.control = VhostUserFrontEnd.connect(socket, 10_000);
        this.features = control.negotiate(wantedFeatures | VirtioFeature.bit(VirtioFeature.VERSION_1),
                VirtioFeature.mask(ProtocolFeature.MQ, ProtocolFeature.STATUS));
        final long ringFeatures = features & ~VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES);
        control.setMemoryTable(memory, USER_ADDRESS_OFFSET);
        final QueueConfig rxConfig = new QueueConfig(queueSize, RX_RINGS, RX_RINGS + DRIVER_AREA, RX_RINGS + DEVICE_AREA,
                ringFeatures);
        final QueueConfig txConfig = new QueueConfig(queueSize, TX_RINGS, TX_RINGS + DRIVER_AREA, TX_RINGS + DEVICE_AREA,
                ringFeatures);
        this.rx = VirtQueues.driver(rxConfig, memory, 0, 1, false);
        this.tx = VirtQueues.driver(txConfig, memory, 0, 1, false);
        this.txBuffers = memory.translate(TX_BUFFERS, (long) queueSize * RX_BUFFER_BYTES, AccessMode.READ_WRITE);
        this.rxBuffers = memory.translate(RX_BUFFERS, (long) queueSize * RX_BUFFER_BYTES, AccessMode.READ_WRITE);
        this.tokens = new int[queueSize];
        this.lengths = new int[queueSize];
        final int base = VirtioFeature.has(ringFeatures, VirtioFeature.RING_PACKED) ? 0x8000 : 0;
        control.setUpVring(0, queueSize, base, RX_RINGS + USER_ADDRESS_OFFSET, RX_RINGS + DEVICE_AREA + USER_ADDRESS_OFFSET,
                RX_RINGS + DRIVER_AREA + USER_ADDRESS_OFFSET, rxCall, rxKick);
        control.setUpVring(1, queueSize, base, TX_RINGS + USER_ADDRESS_OFFSET, TX_RINGS + DEVICE_AREA + USER_ADDRESS_OFFSET,
                TX_RINGS + DRIVER_AREA + USER_ADDRESS_OFFSET, txCall, txKick);
        rx.disableInterrupts();
        tx.disableInterrupts();
        control.setVringEnable(0, true);
        control.setVringEnable(1, true);
        for (int slot = 0; slot < queueSize; slot++) {
            postReceive(slot);
        }
        rx.publish();
        if (rx.needsKick()) {
            rxKick.signal();
        }
    }

    private void postReceive(final int slot) {
        gpaScratch[0] = RX_BUFFERS + (long) slot * RX_BUFFER_BYTES;
        lengthScratch[0] = RX_BUFFER_BYTES;
        rx.add(gpaScratch, lengthScratch, 0, 1, slot);
    }

    /** @return the features negotiated (with vhost-user's protocol-features bit) */
    public long features() {
        return features;
    }

    /** @return the front-end's guest memory (what a guest can write, hostile or not) */
    public GuestMemory memory() {
        return memory;
    }

    /** @return the guest address of the transmit queue's descriptor area */
    public long transmitDescriptorGpa() {
        return TX_RINGS;
    }

    /** @return the guest address of the transmit queue's driver area (available ring) */
    public long transmitDriverAreaGpa() {
        return TX_RINGS + DRIVER_AREA;
    }

    /** @return the vhost-user control connection */
    public VhostUserFrontEnd control() {
        return control;
    }

    /**
     * Sends one frame (header zeroed), kicking the back-end if it asked for it.
     *
     * @return false if the transmit ring is full (reap completions first)
     */
    public boolean transmit(final MemorySegment frame, final long offset, final int lengthBytes) {
        final int slot = nextTxSlot;
        final long at = (long) slot * RX_BUFFER_BYTES;
        txBuffers.set(ValueLayout.JAVA_LONG_UNALIGNED, at, 0L);
        txBuffers.set(ValueLayout.JAVA_INT_UNALIGNED, at + 8, 0);
        MemorySegment.copy(frame, offset, txBuffers, at + VirtioNetHeader.BYTES, lengthBytes);
        gpaScratch[0] = TX_BUFFERS + at;
        lengthScratch[0] = VirtioNetHeader.BYTES + lengthBytes;
        if (!tx.add(gpaScratch, lengthScratch, 1, 0, slot)) {
            return false;
        }
        nextTxSlot = slot + 1 == queueSize ? 0 : slot + 1;
        tx.publish();
        if (tx.needsKick()) {
            txKick.signal();
        }
        return true;
    }

    /** @return transmit buffers the back-end returned */
    public int reapTransmitted() {
        return tx.reap(tokens, lengths, queueSize);
    }

    /** A frame received by {@link #receive}. */
    @FunctionalInterface
    public interface FrameSink {
        /** @param frame the received buffer; the frame starts after the 12-byte header, {@code lengthBytes} long */
        void frame(MemorySegment frame, long offset, int lengthBytes);
    }

    /**
     * Takes received frames, hands each to {@code sink}, and posts the buffers again.
     *
     * @return frames received
     */
    public int receive(final FrameSink sink) {
        final int n = rx.reap(tokens, lengths, queueSize);
        for (int i = 0; i < n; i++) {
            final long at = (long) tokens[i] * RX_BUFFER_BYTES;
            sink.frame(rxBuffers, at + VirtioNetHeader.BYTES, lengths[i] - VirtioNetHeader.BYTES);
            postReceive(tokens[i]);
        }
        if (n > 0) {
            rx.publish();
            if (rx.needsKick()) {
                rxKick.signal();
            }
        }
        return n;
    }

    /** @return what the device did wrong on either queue, or null */
    public String deviceFault() {
        return rx.deviceFault() != null ? rx.deviceFault() : tx.deviceFault();
    }

    @Override
    public void close() {
        control.close();
        memory.close();
        rxKick.close();
        txKick.close();
        rxCall.close();
        txCall.close();
    }
}

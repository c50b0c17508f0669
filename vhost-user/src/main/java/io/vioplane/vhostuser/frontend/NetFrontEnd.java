package io.vioplane.vhostuser.frontend;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 *
 * <p>With an IOMMU (VIRTIO_F_ACCESS_PLATFORM, QEMU docs/interop/vhost-user.rst "IOMMU support") the device sees
 * iovas: every ring and buffer address is its gpa + {@link #IOVA_OFFSET}, and the front-end plays the IOMMU's part
 * too, mapping each area up front with one IOTLB_MSG UPDATE (ring areas read-write, transmit buffers read-only,
 * receive buffers write-only, as Linux's DMA API maps them), so that a warm device IOTLB serves every access. The
 * back-end channel (SET_BACKEND_REQ_FD), where misses would come, is {@link #takeBackendRequests() handed} to
 * whoever wants to read them.
 */
public final class NetFrontEnd implements AutoCloseable {
    /** Where this front-end pretends its guest memory lives in its own address space. */
    public static final long USER_ADDRESS_OFFSET = 0x7F00_0000_0000L;
    /** Bytes of each receive buffer. */
    public static final int RX_BUFFER_BYTES = 2048;
    /** With an IOMMU: an area's iova is its gpa plus this. */
    public static final long IOVA_OFFSET = 0x10_0000_0000L;
    /** vhost_iotlb_msg permissions. */
    private static final int READ_ONLY = 1;
    private static final int WRITE_ONLY = 2;
    private static final int READ_WRITE = 3;
    /** vhost_iotlb_msg types. */
    private static final int UPDATE = 2;
    private static final int INVALIDATE = 3;
    private static final long RING_AREA_BYTES = 0x10_0000L;
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
    private final long iovaOffset;
    private int backendRequests = -1;
    private int nextTxSlot;

    /**
     * Connects, negotiates, shares memory, sets up and enables queue pair 0, and posts every receive buffer.
     *
     * @param wantedFeatures virtio features to accept if offered (VERSION_1 is always asked)
     */
    public NetFrontEnd(final Path socket, final long wantedFeatures, final int queueSize) {
        this(socket, wantedFeatures, queueSize, false);
    }

    /**
     * Connects, negotiates, shares memory, (with {@code iommu}) maps every area in the back-end's device IOTLB, sets
     * up and enables queue pair 0, and posts every receive buffer.
     *
     * @param wantedFeatures virtio features to accept if offered (VERSION_1 is always asked)
     * @param iommu          negotiate VIRTIO_F_ACCESS_PLATFORM: the device sees iovas ({@link #IOVA_OFFSET})
     * @throws VhostUserFrontEnd.FrontEndException if {@code iommu} and the back-end does not offer ACCESS_PLATFORM
     */
    public NetFrontEnd(final Path socket, final long wantedFeatures, final int queueSize, final boolean iommu) {
        this.queueSize = queueSize;
        this.iovaOffset = iommu ? IOVA_OFFSET : 0;
        this.control = VhostUserFrontEnd.connect(socket, 10_000);
        final long wanted = wantedFeatures | VirtioFeature.bit(VirtioFeature.VERSION_1)
                | (iommu ? VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM) : 0);
        this.features = control.negotiate(wanted, VirtioFeature.mask(ProtocolFeature.MQ, ProtocolFeature.STATUS)
                | (iommu ? VirtioFeature.bit(ProtocolFeature.BACKEND_REQ) : 0));
        if (iommu && !VirtioFeature.has(features, VirtioFeature.ACCESS_PLATFORM)) {
            control.close();
            throw new VhostUserFrontEnd.FrontEndException("the back-end does not offer VIRTIO_F_ACCESS_PLATFORM");
        }
        final long ringFeatures = features & ~VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES);
        control.setMemoryTable(memory, USER_ADDRESS_OFFSET);
        if (iommu) {
            final int[] pair = UnixSockets.socketPair();
            try {
                control.request(VhostUserRequest.SET_BACKEND_REQ_FD, new byte[0], pair[0]);
            } finally {
                FileIo.closeQuietly(pair[0]);
            }
            backendRequests = pair[1];
            mapOrThrow(RX_RINGS, RING_AREA_BYTES, READ_WRITE);
            mapOrThrow(TX_RINGS, RING_AREA_BYTES, READ_WRITE);
            mapOrThrow(TX_BUFFERS, (long) queueSize * RX_BUFFER_BYTES, READ_ONLY);
            mapOrThrow(RX_BUFFERS, (long) queueSize * RX_BUFFER_BYTES, WRITE_ONLY);
        }
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
        final long ringOffset = iommu ? IOVA_OFFSET : USER_ADDRESS_OFFSET;
        control.setUpVring(0, queueSize, base, RX_RINGS + ringOffset, RX_RINGS + DEVICE_AREA + ringOffset,
                RX_RINGS + DRIVER_AREA + ringOffset, rxCall, rxKick);
        control.setUpVring(1, queueSize, base, TX_RINGS + ringOffset, TX_RINGS + DEVICE_AREA + ringOffset,
                TX_RINGS + DRIVER_AREA + ringOffset, txCall, txKick);
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

    private void mapOrThrow(final long gpa, final long sizeBytes, final int permissions) {
        final long status = iotlbUpdate(gpa + IOVA_OFFSET, sizeBytes, gpa, permissions);
        if (status != 0) {
            throw new VhostUserFrontEnd.FrontEndException("the back-end refused the IOTLB UPDATE of gpa 0x"
                    + Long.toHexString(gpa) + " (status " + status + ")");
        }
    }

    /**
     * Sends an IOTLB_MSG UPDATE: {@code [iova, iova + sizeBytes)} to this front-end's memory at {@code gpa}.
     *
     * @param permissions 1 read-only, 2 write-only, 3 read-write
     * @return the back-end's status (0 applied)
     */
    public long iotlbUpdate(final long iova, final long sizeBytes, final long gpa, final int permissions) {
        return iotlbMessage(iova, sizeBytes, gpa + USER_ADDRESS_OFFSET, permissions, UPDATE);
    }

    /**
     * Sends an IOTLB_MSG INVALIDATE of {@code [iova, iova + sizeBytes)}: the guest unmapped it.
     *
     * @return the back-end's status (0 applied; the back-end has stopped using the range when this returns)
     */
    public long iotlbInvalidate(final long iova, final long sizeBytes) {
        return iotlbMessage(iova, sizeBytes, 0, 0, INVALIDATE);
    }

    private long iotlbMessage(final long iova, final long sizeBytes, final long userAddr, final int permissions,
                              final int type) {
        final ByteBuffer payload = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder());
        payload.putLong(iova).putLong(sizeBytes).putLong(userAddr).put((byte) permissions).put((byte) type);
        return ByteBuffer.wrap(control.request(VhostUserRequest.IOTLB_MSG, payload.array()))
                .order(ByteOrder.nativeOrder()).getLong();
    }

    /**
     * Hands over this front-end's end of the back-end channel (with an IOMMU), where the back-end sends its IOTLB
     * misses; the caller closes it.
     *
     * @return the socket, or -1 without an IOMMU (or if already taken)
     */
    public int takeBackendRequests() {
        final int fd = backendRequests;
        backendRequests = -1;
        return fd;
    }

    /** @return the address the device uses for {@code gpa}: its iova with an IOMMU, else the gpa */
    public long deviceAddress(final long gpa) {
        return gpa + iovaOffset;
    }

    /** @return the gpa of receive buffer {@code slot} ({@link #RX_BUFFER_BYTES} each, one per ring slot) */
    public long receiveBufferGpa(final int slot) {
        return RX_BUFFERS + (long) slot * RX_BUFFER_BYTES;
    }

    /** @return the gpa of transmit buffer {@code slot} ({@link #RX_BUFFER_BYTES} each, one per ring slot) */
    public long transmitBufferGpa(final int slot) {
        return TX_BUFFERS + (long) slot * RX_BUFFER_BYTES;
    }

    private void postReceive(final int slot) {
        gpaScratch[0] = iovaOffset + RX_BUFFERS + (long) slot * RX_BUFFER_BYTES;
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
        gpaScratch[0] = iovaOffset + TX_BUFFERS + at;
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
        FileIo.closeQuietly(takeBackendRequests());
        control.close();
        memory.close();
        rxKick.close();
        txKick.close();
        rxCall.close();
        txCall.close();
    }
}

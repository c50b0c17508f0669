package io.vioplane.vhostuser.frontend;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.transport.MessageFramer;
import io.vioplane.virtioblk.BlkRequestType;
import io.vioplane.virtioblk.VirtioBlkConfig;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * An in-process virtio-blk front-end over vhost-user (VIRTIO 1.x section 5.2.6 from the driver's side): its own
 * guest memory (one memfd region shared with the back-end), the driver side of request queue 0 (split), kick and
 * call eventfds, and the negotiation QEMU would do. Drives vioplane's daemon or qemu-storage-daemon alike; used by
 * tests and by the block benchmark. Polls its ring (no used-buffer interrupts). Single-threaded.
 *
 * <pre>
 *   gpa 0x0000_0000  ring areas     gpa 0x0010_0000  request headers (16 B per slot) and status bytes
 *   gpa 0x0100_0000  data buffers ({@link #MAX_REQUEST_BYTES} per slot, 4 KiB-aligned)
 * </pre>
 */
public final class BlkFrontEnd implements AutoCloseable {
    /** Where this front-end pretends its guest memory lives in its own address space. */
    public static final long USER_ADDRESS_OFFSET = 0x7E00_0000_0000L;
    /** The largest request data one slot holds. */
    public static final int MAX_REQUEST_BYTES = 128 * 1024;
    private static final long RINGS = 0x0000_0000L;
    private static final long DRIVER_AREA = 0x8_0000L;
    private static final long DEVICE_AREA = 0xC_0000L;
    private static final long HEADERS = 0x0010_0000L;
    private static final long STATUS = 0x0018_0000L;
    private static final long DATA = 0x0100_0000L;

    private final VhostUserFrontEnd control;
    private final GuestMemory memory;
    private final DriverQueue queue;
    private final EventFd kick = EventFd.create();
    private final EventFd call = EventFd.create();
    private final MemorySegment headers;
    private final MemorySegment statuses;
    private final MemorySegment data;
    private final int queueSize;
    private final long[] gpas = new long[3];
    private final int[] lengths = new int[3];
    private final int[] tokens;
    private final int[] usedLengths;
    private final int backendSocket;
    private final Arena backendArena;
    private final MessageFramer backendRequests;

    /**
     * Connects, negotiates (VERSION_1 only: no event index, no indirect descriptors), shares memory, and sets up
     * and enables request queue 0.
     *
     * @param queueSize descriptors in the queue; a request takes three (header, data, status), so at most
     *                  {@code queueSize / 3} requests are in flight at once
     */
    public BlkFrontEnd(final Path socket, final int queueSize) {
        this(socket, queueSize, false);
    }

    /**
     * As above; with {@code backendChannel}, also negotiates BACKEND_REQ and hands the back-end one end of a socket
     * pair (SET_BACKEND_REQ_FD), whose requests {@link #awaitBackendRequest} reads.
     */
    public BlkFrontEnd(final Path socket, final int queueSize, final boolean backendChannel) {
        this.queueSize = queueSize;
        this.memory = GuestMemory.ofMemFd(0, DATA + (long) queueSize * MAX_REQUEST_BYTES);
        this.control = VhostUserFrontEnd.connect(socket, 10_000);
        final long features = control.negotiate(VirtioFeature.bit(VirtioFeature.VERSION_1),
                VirtioFeature.mask(ProtocolFeature.MQ, ProtocolFeature.CONFIG)
                        | (backendChannel ? VirtioFeature.bit(ProtocolFeature.BACKEND_REQ) : 0));
        if (backendChannel) {
            final int[] pair = UnixSockets.socketPair();
            try {
                control.request(VhostUserRequest.SET_BACKEND_REQ_FD, new byte[0], pair[1]);
            } finally {
                FileIo.close(pair[1]);
            }
            FileIo.setNonBlocking(pair[0], true);
            this.backendSocket = pair[0];
            this.backendArena = Arena.ofShared();
            this.backendRequests = new MessageFramer(pair[0], backendArena);
        } else {
            this.backendSocket = -1;
            this.backendArena = null;
            this.backendRequests = null;
        }
        control.setMemoryTable(memory, USER_ADDRESS_OFFSET);
        final QueueConfig config = new QueueConfig(queueSize, RINGS, RINGS + DRIVER_AREA, RINGS + DEVICE_AREA,
                features & ~VirtioFeature.bit(ProtocolFeature.VIRTIO_F_PROTOCOL_FEATURES));
        this.queue = VirtQueues.driver(config, memory, 0, 1, false);
        this.headers = memory.translate(HEADERS, (long) queueSize * BlkRequestType.HEADER_BYTES, AccessMode.READ_WRITE);
        this.statuses = memory.translate(STATUS, queueSize, AccessMode.READ_WRITE);
        this.data = memory.translate(DATA, (long) queueSize * MAX_REQUEST_BYTES, AccessMode.READ_WRITE);
        this.tokens = new int[queueSize];
        this.usedLengths = new int[queueSize];
        control.setUpVring(0, queueSize, 0, RINGS + USER_ADDRESS_OFFSET, RINGS + DEVICE_AREA + USER_ADDRESS_OFFSET,
                RINGS + DRIVER_AREA + USER_ADDRESS_OFFSET, call, kick);
        queue.disableInterrupts();
        control.setVringEnable(0, true);
    }

    /** @return slot {@code slot}'s data buffer (for filling writes and checking reads) */
    public MemorySegment buffer(final int slot) {
        return data.asSlice((long) slot * MAX_REQUEST_BYTES, MAX_REQUEST_BYTES);
    }

    /**
     * Places one request in slot {@code slot} (its header, data buffer and status byte); visible at {@link #kick()}.
     *
     * @param type  {@link BlkRequestType#IN}, {@link BlkRequestType#OUT} or {@link BlkRequestType#FLUSH}
     * @param bytes data bytes (a multiple of 512, at most {@link #MAX_REQUEST_BYTES}; 0 for FLUSH)
     * @return false if the ring is full
     */
    public boolean place(final int slot, final int type, final long sector, final int bytes) {
        headers.set(ValueLayout.JAVA_INT_UNALIGNED, (long) slot * 16, type);
        headers.set(ValueLayout.JAVA_INT_UNALIGNED, (long) slot * 16 + 4, 0);
        headers.set(ValueLayout.JAVA_LONG_UNALIGNED, (long) slot * 16 + 8, sector);
        statuses.set(ValueLayout.JAVA_BYTE, slot, (byte) 0xFF);
        gpas[0] = HEADERS + (long) slot * 16;
        lengths[0] = BlkRequestType.HEADER_BYTES;
        int count = 1;
        final boolean write = type == BlkRequestType.OUT;
        if (bytes > 0) {
            gpas[count] = DATA + (long) slot * MAX_REQUEST_BYTES;
            lengths[count] = bytes;
            count++;
        }
        gpas[count] = STATUS + slot;
        lengths[count] = 1;
        count++;
        final int readable = write && bytes > 0 ? 2 : 1;
        return queue.add(gpas, lengths, readable, count - readable, slot);
    }

    /** Publishes what was placed and kicks the back-end if it asked for it. */
    public void kick() {
        queue.publish();
        if (queue.needsKick()) {
            kick.signal();
        }
    }

    /**
     * Takes completed requests.
     *
     * @param slots receives each completed request's slot
     * @return how many completed
     */
    public int reap(final int[] slots) {
        final int n = queue.reap(tokens, usedLengths, Math.min(slots.length, queueSize));
        System.arraycopy(tokens, 0, slots, 0, n);
        return n;
    }

    /** @return the status byte the back-end wrote for slot {@code slot} */
    public byte status(final int slot) {
        return statuses.get(ValueLayout.JAVA_BYTE, slot);
    }

    /** @return what the device did wrong, or null */
    public String deviceFault() {
        return queue.deviceFault();
    }

    /**
     * Waits for the back-end's next request on the back-end channel (this front-end answers none).
     *
     * @return its request id, e.g. {@link VhostUserRequest#BACKEND_CONFIG_CHANGE_MSG}
     * @throws IllegalStateException if none came within {@code timeoutMs}, the channel closed, or there is none
     */
    public int awaitBackendRequest(final long timeoutMs) {
        if (backendRequests == null) {
            throw new IllegalStateException("no back-end channel: construct with backendChannel = true");
        }
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            final int result = backendRequests.receive();
            if (result == MessageFramer.MESSAGE) {
                backendRequests.fds().closeAll();
                return backendRequests.request();
            }
            if (result != MessageFramer.WOULD_BLOCK) {
                throw new IllegalStateException("the back-end channel " + (result == MessageFramer.CLOSED ? "closed"
                        : "broke: " + backendRequests.failure()));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no back-end request within " + timeoutMs + " ms");
            }
            Thread.onSpinWait();
        }
    }

    /** @return the capacity in sectors the back-end's configuration space holds now (GET_CONFIG) */
    public long capacitySectors() {
        final int bytes = 8;
        final byte[] request = ByteBuffer.allocate(12 + bytes).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(VirtioBlkConfig.CAPACITY).putInt(bytes).putInt(0).array();
        final byte[] reply = control.request(VhostUserRequest.GET_CONFIG, request);
        return ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getLong(12);
    }

    /** @return the vhost-user control connection */
    public VhostUserFrontEnd control() {
        return control;
    }

    @Override
    public void close() {
        if (backendSocket >= 0) {
            FileIo.closeQuietly(backendSocket);
            backendArena.close();
        }
        control.close();
        memory.close();
        kick.close();
        call.close();
    }
}

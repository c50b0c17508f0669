package io.vioplane.virtionet.testkit;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal virtio-net guest driver for tests: guest memory, the driver side of one queue pair (and the
 * control queue), and the device under test with its device-side queues, all in one process. The test plays
 * the guest: it places transmit frames and receive buffers, runs the device's poll, and reads what came back.
 *
 * <pre>
 *   0x0010_0000 + q*0x10_0000   rings of queue q (desc +0, driver area +0x8_0000, device area +0xC_0000)
 *   0x0100_0000                  transmit buffers (4 KiB slots)
 *   0x0200_0000                  receive buffers (4 KiB slots)
 *   0x0300_0000                  control buffers
 * </pre>
 */
public final class TestNetGuest implements AutoCloseable {
    public static final long TX_BUFFERS = 0x0100_0000L;
    public static final long RX_BUFFERS = 0x0200_0000L;
    public static final long CTRL_BUFFERS = 0x0300_0000L;
    public static final int SLOT_BYTES = 4096;
    public static final byte[] GUEST_MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

    private final GuestMemory memory = GuestMemory.ofMemFd(0, 0x0400_0000L);
    private final VirtioNetDevice device;
    private final DriverQueue rx;
    private final DriverQueue tx;
    private final DriverQueue ctrl;
    private final AtomicInteger interrupts = new AtomicInteger();
    private final Counters counters = Counters.inMemory(256);
    private int txToken;

    /**
     * @param features  negotiated features (VERSION_1 is added)
     * @param port      the port under the device
     * @param queueSize the size of every queue
     */
    public TestNetGuest(final long features, final NetPort port, final int queueSize) {
        final long negotiated = features | VirtioFeature.bit(VirtioFeature.VERSION_1);
        device = new VirtioNetDevice("test-net", new VirtioNetConfig(GUEST_MAC, 1, 1500), negotiated, port, counters);
        device.setNegotiatedFeatures(negotiated);
        rx = driver(0, queueSize, negotiated);
        tx = driver(1, queueSize, negotiated);
        final Interrupt countInterrupt = interrupts::incrementAndGet;
        device.startQueue(0, deviceQueue(0, queueSize, negotiated), countInterrupt);
        device.startQueue(1, deviceQueue(1, queueSize, negotiated), countInterrupt);
        if (VirtioFeature.has(negotiated, io.vioplane.virtionet.VirtioNetFeature.CTRL_VQ)) {
            ctrl = driver(2, queueSize, negotiated);
            device.startQueue(2, deviceQueue(2, queueSize, negotiated), countInterrupt);
        } else {
            ctrl = null;
        }
    }

    private static QueueConfig queueConfig(final int queue, final int size, final long features) {
        final long base = 0x0010_0000L + queue * 0x10_0000L;
        return new QueueConfig(size, base, base + 0x8_0000L, base + 0xC_0000L, features);
    }

    private DriverQueue driver(final int queue, final int size, final long features) {
        return VirtQueues.driver(queueConfig(queue, size, features), memory, 0, 1, false);
    }

    private DeviceQueue deviceQueue(final int queue, final int size, final long features) {
        return VirtQueues.device(queueConfig(queue, size, features), memory);
    }

    /** @return the device under test */
    public VirtioNetDevice device() {
        return device;
    }

    /** @return the guest's memory */
    public GuestMemory memory() {
        return memory;
    }

    /** @return interrupts the device raised */
    public int interrupts() {
        return interrupts.get();
    }

    /** @return the driver side of the transmit queue */
    public DriverQueue txQueue() {
        return tx;
    }

    /** @return the driver side of the receive queue */
    public DriverQueue rxQueue() {
        return rx;
    }

    /** @return the driver side of the control queue */
    public DriverQueue ctrlQueue() {
        return ctrl;
    }

    /**
     * Transmits {@code frame} with {@code header} (12 bytes; null = all zero) as one or two descriptors.
     *
     * @return the slot used
     */
    public int transmit(final byte[] header, final byte[] frame, final boolean splitHeader) {
        final int slot = txToken++ % 512;
        final long gpa = TX_BUFFERS + (long) slot * 2 * SLOT_BYTES;
        final byte[] hdr = header == null ? new byte[VirtioNetHeader.BYTES] : header;
        if (splitHeader) {
            memory.writeBytes(gpa, hdr);
            memory.writeBytes(gpa + SLOT_BYTES, frame);
            if (!tx.add(new long[] {gpa, gpa + SLOT_BYTES}, new int[] {hdr.length, frame.length}, 2, 0, slot)) {
                throw new IllegalStateException("transmit ring full");
            }
        } else {
            final byte[] both = new byte[hdr.length + frame.length];
            System.arraycopy(hdr, 0, both, 0, hdr.length);
            System.arraycopy(frame, 0, both, hdr.length, frame.length);
            memory.writeBytes(gpa, both);
            if (!tx.add(new long[] {gpa}, new int[] {both.length}, 1, 0, slot)) {
                throw new IllegalStateException("transmit ring full");
            }
        }
        tx.publish();
        return slot;
    }

    /** Posts {@code count} receive buffers of {@code bytes} each (slot numbers from {@code firstSlot}). */
    public void postReceiveBuffers(final int firstSlot, final int count, final int bytes) {
        for (int i = 0; i < count; i++) {
            final int slot = firstSlot + i;
            if (!rx.add(new long[] {RX_BUFFERS + (long) slot * SLOT_BYTES * 17}, new int[] {bytes}, 0, 1, slot)) {
                throw new IllegalStateException("receive ring full");
            }
        }
        rx.publish();
    }

    /** @return the bytes of receive slot {@code slot} */
    public byte[] receiveBuffer(final int slot, final int length) {
        return memory.readBytes(RX_BUFFERS + (long) slot * SLOT_BYTES * 17, length);
    }

    /** Runs the device until it reports no work (at most {@code rounds} polls). */
    public void pollUntilIdle(final int rounds) {
        for (int i = 0; i < rounds; i++) {
            if (device.poll() == 0) {
                return;
            }
        }
    }

    /**
     * Sends a control command and returns the device's ack.
     *
     * @return the ack byte, or -1 if the device did not answer
     */
    public int control(final int commandClass, final int command, final byte[] data) {
        memory.putByte(CTRL_BUFFERS, (byte) commandClass);
        memory.putByte(CTRL_BUFFERS + 1, (byte) command);
        memory.writeBytes(CTRL_BUFFERS + 2, data);
        memory.putByte(CTRL_BUFFERS + 0x1000, (byte) 0x7F);
        if (!ctrl.add(new long[] {CTRL_BUFFERS, CTRL_BUFFERS + 0x1000}, new int[] {2 + data.length, 1}, 1, 1, 0)) {
            throw new IllegalStateException("control ring full");
        }
        ctrl.publish();
        pollUntilIdle(4);
        final int[] tokens = new int[1];
        final int[] lengths = new int[1];
        if (ctrl.reap(tokens, lengths, 1) != 1) {
            return -1;
        }
        return memory.getByte(CTRL_BUFFERS + 0x1000) & 0xFF;
    }

    /** @return an Ethernet frame: destination, source, ethertype 0x88B5 (local experimental), payload */
    public static byte[] ethernetFrame(final byte[] destination, final byte[] source, final int payloadBytes, final int seed) {
        final ByteBuffer frame = ByteBuffer.allocate(14 + payloadBytes).order(ByteOrder.BIG_ENDIAN);
        frame.put(destination).put(source).putShort((short) 0x88B5);
        for (int i = 0; i < payloadBytes; i++) {
            frame.put((byte) (seed + i * 7));
        }
        return frame.array();
    }

    @Override
    public void close() {
        memory.close();
    }
}

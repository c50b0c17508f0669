package io.vioplane.virtionet;

import io.vioplane.platform.memory.LittleEndian;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The virtio-net configuration space (VIRTIO 1.x section 5.1.4), as far as vioplane implements it.
 *
 * <pre>
 *   0   u8[6] mac
 *   6   le16  status                 LINK_UP 1, ANNOUNCE 2
 *   8   le16  max_virtqueue_pairs
 *   10  le16  mtu
 * </pre>
 *
 * All fields are read-only for the driver. Thread-safe: the control plane changes the link status while a
 * transport reads.
 */
public final class VirtioNetConfig {
    public static final int BYTES = 12;
    public static final int STATUS_LINK_UP = 1;
    public static final int STATUS_ANNOUNCE = 2;

    private final byte[] bytes = new byte[BYTES];

    /**
     * @param mac                 the device's MAC address (6 bytes)
     * @param maxVirtqueuePairs   queue pairs offered with VIRTIO_NET_F_MQ
     * @param mtu                 the MTU offered with VIRTIO_NET_F_MTU
     */
    public VirtioNetConfig(final byte[] mac, final int maxVirtqueuePairs, final int mtu) {
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes");
        }
        if (maxVirtqueuePairs < 1 || maxVirtqueuePairs > 0x8000) {
            throw new IllegalArgumentException("virtqueue pairs must be 1..32768: " + maxVirtqueuePairs);
        }
        if (mtu < 68 || mtu > 65535) {
            throw new IllegalArgumentException("MTU must be 68..65535: " + mtu);
        }
        final MemorySegment segment = MemorySegment.ofArray(bytes);
        MemorySegment.copy(mac, 0, segment, ValueLayout.JAVA_BYTE, 0, 6);
        segment.set(LittleEndian.U16, 6, (short) STATUS_LINK_UP);
        segment.set(LittleEndian.U16, 8, (short) maxVirtqueuePairs);
        segment.set(LittleEndian.U16, 10, (short) mtu);
    }

    /** @return a copy of the MAC address */
    public synchronized byte[] mac() {
        return java.util.Arrays.copyOf(bytes, 6);
    }

    /** Changes the MAC address (VIRTIO_NET_CTRL_MAC_ADDR_SET). */
    public synchronized void mac(final byte[] mac) {
        System.arraycopy(mac, 0, bytes, 0, 6);
    }

    /** @return the status field */
    public synchronized int status() {
        return MemorySegment.ofArray(bytes).get(LittleEndian.U16, 6) & 0xFFFF;
    }

    /** Sets the status field. */
    public synchronized void status(final int status) {
        MemorySegment.ofArray(bytes).set(LittleEndian.U16, 6, (short) status);
    }

    /** @return max_virtqueue_pairs */
    public synchronized int maxVirtqueuePairs() {
        return MemorySegment.ofArray(bytes).get(LittleEndian.U16, 8) & 0xFFFF;
    }

    /** @return the MTU */
    public synchronized int mtu() {
        return MemorySegment.ofArray(bytes).get(LittleEndian.U16, 10) & 0xFFFF;
    }

    /** Sets the MTU (vhost-user NET_SET_MTU). */
    public synchronized void mtu(final int mtu) {
        MemorySegment.ofArray(bytes).set(LittleEndian.U16, 10, (short) mtu);
    }

    /** Copies {@code destination.byteSize()} bytes from {@code offset}; bytes past the end read as 0. */
    public synchronized void read(final long offset, final MemorySegment destination) {
        destination.fill((byte) 0);
        if (offset < 0 || offset >= BYTES) {
            return;
        }
        final long length = Math.min(destination.byteSize(), BYTES - offset);
        MemorySegment.copy(MemorySegment.ofArray(bytes), offset, destination, 0, length);
    }
}

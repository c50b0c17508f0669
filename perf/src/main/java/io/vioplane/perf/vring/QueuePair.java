package io.vioplane.perf.vring;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DriverQueue;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.VirtQueues;
import io.vioplane.vring.VirtioFeature;

/**
 * One virtqueue in memfd-backed guest memory (what QEMU or DPDK would share with a vhost-user back-end), with
 * one buffer slot per descriptor; its driver side and its device side are created over the same ring areas
 * on demand. The fixture of the vring benchmarks, not a benchmark itself.
 *
 * <pre>
 *   BASE_GPA + 0x00000  descriptor table (split) or descriptor ring (packed)
 *   BASE_GPA + 0x80000  driver area: available ring (split) or driver event suppression (packed)
 *   BASE_GPA + 0xC0000  device area: used ring (split) or device event suppression (packed)
 *   BASE_GPA + 0x100000 buffer slots, 4 KiB each, one per descriptor of the queue
 * </pre>
 *
 * <p>Only VERSION_1, RING_PACKED (for the packed layout) and optionally EVENT_IDX are negotiated: no indirect
 * descriptors, no IN_ORDER, so every descriptor of a chain sits in the ring itself.
 */
public final class QueuePair implements AutoCloseable {
    /** Guest-physical address of the first byte of the memory. */
    public static final long BASE_GPA = 0x0010_0000L;
    private static final long DESC_GPA = BASE_GPA;
    private static final long DRIVER_GPA = BASE_GPA + 0x08_0000L;
    private static final long DEVICE_GPA = BASE_GPA + 0x0C_0000L;
    private static final long BUFFER_GPA = BASE_GPA + 0x10_0000L;
    private static final long BUFFER_SLOT_BYTES = 4096;
    private static final int LARGEST_QUEUE = 4096;

    private final GuestMemory memory;
    private final QueueConfig config;

    private QueuePair(final GuestMemory memory, final QueueConfig config) {
        this.memory = memory;
        this.config = config;
    }

    /**
     * @param layout   {@code split} or {@code packed}, as the benchmarks' {@code layout} parameter names it
     * @param size     descriptors in the queue (at most 4096 here)
     * @param eventIdx negotiate VIRTIO_F_EVENT_IDX
     * @return a fresh queue with both sides over it
     */
    public static QueuePair open(final String layout, final int size, final boolean eventIdx) {
        if (size < 1 || size > LARGEST_QUEUE) {
            throw new IllegalArgumentException("queue size 1.." + LARGEST_QUEUE + ": " + size);
        }
        long features = VirtioFeature.bit(VirtioFeature.VERSION_1);
        switch (layout) {
            case "split" -> { }
            case "packed" -> features |= VirtioFeature.bit(VirtioFeature.RING_PACKED);
            default -> throw new IllegalArgumentException("unknown ring layout " + layout + ": split or packed");
        }
        if (eventIdx) {
            features |= VirtioFeature.bit(VirtioFeature.EVENT_IDX);
        }
        final GuestMemory memory = GuestMemory.ofMemFd(BASE_GPA, BUFFER_GPA - BASE_GPA + size * BUFFER_SLOT_BYTES);
        try {
            return new QueuePair(memory, new QueueConfig(size, DESC_GPA, DRIVER_GPA, DEVICE_GPA, features));
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /** @return the queue's configuration */
    public QueueConfig config() {
        return config;
    }

    /**
     * Creates the driver side, which zeroes the ring areas (they are zero already in a fresh memfd). Call it
     * on the thread that will use it, so that its objects sit in that thread's allocation buffer and share no
     * cache line with the device side's.
     *
     * @return a new driver side over the queue (single-threaded: one thread uses it)
     */
    public DriverQueue newDriver() {
        return VirtQueues.driver(config, memory, 0, 0, false);
    }

    /**
     * Creates the device side; like {@link #newDriver()}, call it on the thread that will use it.
     *
     * @return a new device side over the queue (single-threaded: one thread uses it)
     */
    public DeviceQueue newDevice() {
        return VirtQueues.device(config, memory);
    }

    /** @return the guest address of each buffer slot, one per descriptor of the queue */
    public long[] bufferSlotGpas() {
        final long[] gpas = new long[config.size()];
        for (int slot = 0; slot < gpas.length; slot++) {
            gpas[slot] = BUFFER_GPA + slot * BUFFER_SLOT_BYTES;
        }
        return gpas;
    }

    /** Unmaps the memory and closes its memfd. */
    @Override
    public void close() {
        memory.close();
    }
}

package io.vioplane.vring;

import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.vring.packed.PackedDeviceQueue;
import io.vioplane.vring.packed.PackedDriverQueue;
import io.vioplane.vring.split.SplitDeviceQueue;
import io.vioplane.vring.split.SplitDriverQueue;

/**
 * Creates the device or driver side of a queue in the layout the negotiated features select
 * (VIRTIO_F_RING_PACKED: packed, else split).
 */
public final class VirtQueues {
    private VirtQueues() {
    }

    /**
     * @return the device side, its ring areas checked and mapped
     * @throws QueueConfigException if the size or an area is unacceptable
     */
    public static DeviceQueue device(final QueueConfig config, final DmaSpace memory) {
        return config.packed() ? new PackedDeviceQueue(config, memory) : new SplitDeviceQueue(config, memory);
    }

    /**
     * @return the driver side over freshly zeroed ring areas
     * @see SplitDriverQueue#SplitDriverQueue
     */
    public static DriverQueue driver(final QueueConfig config, final DmaSpace memory, final long indirectPoolGpa,
                                     final int maxIndirectEntries, final boolean useIndirect) {
        return config.packed()
                ? new PackedDriverQueue(config, memory, indirectPoolGpa, maxIndirectEntries, useIndirect)
                : new SplitDriverQueue(config, memory, indirectPoolGpa, maxIndirectEntries, useIndirect);
    }
}

package io.vioplane.vring;

import io.vioplane.platform.memory.DmaSpace;

/**
 * The device side of a virtqueue: what a back-end uses to take buffers the driver made available, give them
 * back used, and decide about notifications in both directions (VIRTIO 1.x sections 2.7 and 2.8).
 *
 * <p>Single-threaded: one data-plane thread owns a device queue. Memory ordering toward the driver, which
 * runs concurrently on another CPU: the available index or descriptor flags are read with acquire before the
 * descriptors they publish; used entries are made visible with a release store; a full fence separates a
 * store from the load that decides whether to notify (the store-load ordering the spec's "suitable memory
 * barrier" requires).
 *
 * <p>A driver's protocol violation breaks the queue: {@link #pop} returns false from then on and
 * {@link #violation()} says why. Nothing on this interface throws because of what the driver wrote.
 */
public interface DeviceQueue {
    /** @return the configuration the queue was enabled with */
    QueueConfig config();

    /** @return the queue size in descriptors */
    default int size() {
        return config().size();
    }

    /**
     * Takes the next available chain, walking and checking it into {@code chain}.
     *
     * @return false if no chain is available or the queue is broken
     */
    boolean pop(DescriptorChain chain);

    /**
     * Takes up to {@code max} available chains.
     *
     * @return how many of {@code chains} were filled
     */
    default int popBatch(final DescriptorChain[] chains, final int max) {
        final int limit = Math.min(max, chains.length);
        int count = 0;
        while (count < limit && pop(chains[count])) {
            count++;
        }
        return count;
    }

    /**
     * Takes the chain headed at descriptor {@code head} without going through the available ring: for a device
     * resubmitting what a previous instance had taken and not used (vhost-user's inflight I/O tracking). The
     * chain is walked and checked like any other.
     *
     * @return false if the head is out of range or the chain is malformed (the queue breaks)
     * @throws UnsupportedOperationException for ring layouts without descriptor heads (packed)
     */
    default boolean popHead(final int head, final DescriptorChain chain) {
        throw new UnsupportedOperationException("this ring layout cannot take a chain by head");
    }

    /**
     * Un-takes the chain popped last, which has not been used: the next pop returns it again (for a device
     * that found it cannot process it yet, e.g. RX buffers too small for the frame at hand).
     */
    void rewind(DescriptorChain lastPopped);

    /**
     * @return true if the last {@link #pop} found a chain but stopped because an IOMMU had no translation yet for one
     *     of its buffers (a device-IOTLB miss, already requested): the chain stays available and the next pop takes
     *     it again. The device need not poll for it: the translation's arrival wakes the data plane.
     */
    default boolean awaitingTranslation() {
        return false;
    }

    /** @return true if the driver has made a chain available that the device has not taken (no side effects) */
    boolean hasAvailable();

    /**
     * Queues a used element for the chain: not visible to the driver until {@link #publishUsed()}.
     *
     * @param writtenBytes bytes the device wrote into the chain's writable buffers
     */
    default void addUsed(final DescriptorChain chain, final int writtenBytes) {
        addUsed(chain.headId(), chain.ringSlots(), writtenBytes);
    }

    /**
     * Queues a used element.
     *
     * @param id           the chain's head index (split) or buffer id (packed)
     * @param ringSlots    descriptors the chain occupied in the ring (packed; ignored by split rings)
     * @param writtenBytes bytes the device wrote
     */
    void addUsed(int id, int ringSlots, int writtenBytes);

    /** Makes every queued used element visible to the driver at once. */
    void publishUsed();

    /**
     * Decides, after {@link #publishUsed()}, whether the driver asked to be interrupted for what was
     * published since the previous decision (flags or used_event, VIRTIO 1.x 2.7.7 and 2.8.10).
     */
    boolean needsInterrupt();

    /** Asks the driver not to send available-buffer notifications (kicks) while the device polls. */
    void disableNotifications();

    /**
     * Asks the driver for kicks again, then re-checks the ring after a full fence.
     *
     * @return true if buffers became available meanwhile: the device must keep polling instead of sleeping
     */
    boolean enableNotifications();

    /**
     * Lets the driver's IN_ORDER batching shape used elements: when true and VIRTIO_F_IN_ORDER is
     * negotiated, {@link #publishUsed()} writes one used element for the whole batch (the last chain's id)
     * and skips the rest, which the driver then takes as wholly used. Only for queues whose buffers the
     * device always consumes completely (transmit queues).
     */
    void setCollapseInOrder(boolean collapse);

    /** @return the violation that broke the queue, or null */
    RingViolation violation();

    /** @return true if a violation broke the queue */
    default boolean isBroken() {
        return violation() != null;
    }

    /** @return where the device stands, to resume later */
    QueueState state();

    /** Continues from a saved state (the ring areas are unchanged). */
    void restore(QueueState state);

    /**
     * Continues from vhost's vring base, the value SET_VRING_BASE gave and GET_VRING_BASE returned (QEMU
     * docs/interop/vhost-user.rst, "Ring states"; virtio 1.2 sections 2.7.1 and 2.8.1). A split ring resumes where
     * the driver sees the used index, so chains taken but never used before a reconnect are processed again; a
     * packed ring decodes the base's indices and wrap counters. Read once from guest memory, like every guest field.
     *
     * @return the state the queue continues from
     */
    QueueState resume(int vringBase);

    /**
     * Re-translates the ring areas through a new mapping of the same guest addresses (a memory-table update).
     *
     * @throws QueueConfigException if an area is not mapped any more
     */
    void remap(DmaSpace memory);

    /** @return chains taken and not yet given back used */
    int inFlight();

    /**
     * Logs every write the queue makes into the ring areas from now on ({@link DirtyPageLog#NONE} to stop).
     *
     * @param usedRingLogGpa where writes to the used ring are logged (vhost-user's log_guest_addr); ignored by
     *                       packed rings, which log at the rings' own addresses
     */
    void setDirtyLog(DirtyPageLog log, long usedRingLogGpa);
}

package io.vioplane.vhostuser.backend;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.QueueState;
import io.vioplane.vring.device.DeviceContext;

import java.lang.foreign.MemorySegment;

/**
 * What the device-agnostic back-end needs from a device type (net, blk): its features, its queues and
 * configuration space, and the per-queue lifecycle the vhost-user ring states drive.
 *
 * <p>Methods marked "data-plane thread" are only called from there (through {@link DataPlane#run}); the rest
 * on the control-plane thread.
 */
public interface VhostUserDevice {
    /** @return the virtio features offered (VHOST_USER_F_PROTOCOL_FEATURES is added by the back-end) */
    long features();

    /** @return protocol features this device type supports beyond the back-end's own */
    long deviceProtocolFeatures();

    /** @return the number of virtqueues the device can have */
    int maxQueues();

    /** @return the GET_QUEUE_NUM answer (queue pairs for net, as QEMU and DPDK expect) */
    long queueNumReply();

    /** @return what the data plane polls for this device */
    DataPlane.Pollable pollable();

    /** Data-plane thread: the features the front-end set (may change while rings run, e.g. LOG_ALL). */
    void setNegotiatedFeatures(long features);

    /** Data-plane thread: start serving queue {@code index}. */
    void startQueue(int index, DeviceQueue queue, Interrupt call);

    /**
     * Data-plane thread: start serving queue {@code index}, first resubmitting what {@code inflight} says a previous
     * back-end left unfinished and tracking every chain there (only for devices offering INFLIGHT_SHMFD).
     */
    default void startQueue(final int index, final DeviceQueue queue, final Interrupt call,
                            final SplitInflightRegion inflight) {
        startQueue(index, queue, call);
    }

    /** Data-plane thread: stop serving queue {@code index}; returns where it stood or null. */
    QueueState stopQueue(int index);

    /** Data-plane thread: enable or disable a started queue. */
    void setQueueEnabled(int index, boolean enabled);

    /** Data-plane thread: count a kick of queue {@code index}. */
    void kicked(int index, long count);

    /** Data-plane thread: log buffer writes (or stop, with {@link DirtyPageLog#NONE}). */
    void setDirtyLog(DirtyPageLog log);

    /** Sets where broken queues are reported (called on the data-plane thread when it happens). */
    void setNeedsResetListener(DeviceContext.NeedsResetListener listener);

    /** @return bytes of configuration space */
    int configSize();

    /** Reads configuration space. */
    void readConfig(long offset, MemorySegment destination);

    /**
     * Writes configuration space (SET_CONFIG).
     *
     * @param migration true when the front-end restores state during live migration (may set read-only fields)
     * @return false if the write is refused
     */
    boolean writeConfig(long offset, MemorySegment source, boolean migration);

    /**
     * Sets the MTU the front-end exposes to the guest (NET_SET_MTU).
     *
     * @return false if this device type or value is not acceptable
     */
    boolean setMtu(int mtu);

    /** Data-plane thread: announce the guest's MAC on the network after a migration (SEND_RARP). */
    void announce(byte[] mac);

    /** Data-plane thread: stop every queue and forget what the front-end configured. */
    void reset();

    /** @return a name for logs and counters */
    String name();
}

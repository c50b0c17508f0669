package io.vioplane.vhostuser.blk;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.vhostuser.backend.SplitInflightRegion;
import io.vioplane.vhostuser.backend.QueueServingVhostUserDevice;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.virtioblk.engine.InflightTracking;
import io.vioplane.virtioblk.engine.VirtioBlkDevice;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.VirtioFeature;

import java.lang.foreign.MemorySegment;

/**
 * A {@link VirtioBlkDevice} as a vhost-user device (QEMU docs/interop/vhost-user.rst; the block device as
 * QEMU's vhost-user-blk and qemu-storage-daemon serve it): GET_QUEUE_NUM answers the request queues, GET_CONFIG
 * reads the block configuration (the capacity read again from the image first, so a grown image is seen),
 * SET_CONFIG takes the writeback byte (CONFIG_WCE), and a ring stops only after its outstanding I/O completed.
 * INFLIGHT_SHMFD lets a restarted daemon resubmit what it had taken and not completed; MQ, CONFIG, REPLY_ACK,
 * STATUS and RESET_DEVICE come from the device-agnostic back-end.
 */
public final class BlkVhostUserDevice extends QueueServingVhostUserDevice<VirtioBlkDevice> {
    /** @param device the block device to serve */
    public BlkVhostUserDevice(final VirtioBlkDevice device) {
        super(device);
    }

    /** @return the block device */
    public VirtioBlkDevice blkDevice() {
        return device;
    }

    @Override
    public long deviceProtocolFeatures() {
        return VirtioFeature.bit(ProtocolFeature.INFLIGHT_SHMFD);
    }

    @Override
    public long queueNumReply() {
        return device.maxQueues();
    }

    @Override
    public void startQueue(final int index, final DeviceQueue queue, final Interrupt call,
                           final SplitInflightRegion inflight) {
        device.startQueue(index, queue, call, new InflightTracking() {
            @Override
            public int resubmitCount() {
                return inflight.resubmitCount();
            }

            @Override
            public int resubmitHead(final int i) {
                return inflight.resubmitHead(i);
            }

            @Override
            public void taken(final int head) {
                inflight.taken(head);
            }

            @Override
            public void usedNext(final int head) {
                inflight.usedNext(head);
            }

            @Override
            public void usedPublished(final int head, final int usedIndex) {
                inflight.usedPublished(head, usedIndex);
            }
        });
    }

    @Override
    public void readConfig(final long offset, final MemorySegment destination) {
        device.refreshCapacity();
        device.readConfig(offset, destination);
    }

    @Override
    public boolean writeConfig(final long offset, final MemorySegment source, final boolean migration) {
        return device.writeConfiguration(offset, source);
    }

    @Override
    public boolean setMtu(final int mtu) {
        return false;
    }

    @Override
    public void announce(final byte[] mac) {
        // A block device has no network to announce itself on.
    }
}

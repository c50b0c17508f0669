package io.vioplane.vhostuser.backend;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.vring.DeviceQueue;
import io.vioplane.vring.DirtyPageLog;
import io.vioplane.vring.QueueState;
import io.vioplane.vring.device.DeviceContext;
import io.vioplane.vring.device.QueueServingDevice;

import java.lang.foreign.MemorySegment;

/**
 * What every transport-free device model needs to be a {@link VhostUserDevice}: the ring-by-ring calls of the
 * back-end (QEMU docs/interop/vhost-user.rst, "Starting and stopping rings") passed to the device's
 * {@link QueueServingDevice} methods, its offered features, its configuration space and its data-plane poll.
 * A device type adds what is its own: protocol features, the GET_QUEUE_NUM answer, SET_CONFIG, MTU and RARP.
 *
 * @param <D> the device model
 */
public abstract class QueueServingVhostUserDevice<D extends QueueServingDevice & DataPlane.Pollable>
        implements VhostUserDevice {
    /** The device model served. */
    protected final D device;

    /** @param device the device model to serve */
    protected QueueServingVhostUserDevice(final D device) {
        this.device = device;
    }

    @Override
    public long features() {
        return device.offeredFeatures();
    }

    @Override
    public int maxQueues() {
        return device.maxQueues();
    }

    @Override
    public DataPlane.Pollable pollable() {
        return device;
    }

    @Override
    public void setNegotiatedFeatures(final long features) {
        device.setNegotiatedFeatures(features);
    }

    @Override
    public void startQueue(final int index, final DeviceQueue queue, final Interrupt call) {
        device.startQueue(index, queue, call);
    }

    @Override
    public QueueState stopQueue(final int index) {
        return device.stopQueue(index);
    }

    @Override
    public void setQueueEnabled(final int index, final boolean enabled) {
        device.setQueueEnabled(index, enabled);
    }

    @Override
    public void kicked(final int index, final long count) {
        device.countKicks(index, count);
    }

    @Override
    public void setDirtyLog(final DirtyPageLog log) {
        device.setDirtyLog(log);
    }

    @Override
    public void setNeedsResetListener(final DeviceContext.NeedsResetListener listener) {
        device.setNeedsResetListener(listener);
    }

    @Override
    public int configSize() {
        return device.configSize();
    }

    @Override
    public void readConfig(final long offset, final MemorySegment destination) {
        device.readConfig(offset, destination);
    }

    @Override
    public void reset() {
        device.reset();
    }

    @Override
    public String name() {
        return device.toString();
    }
}

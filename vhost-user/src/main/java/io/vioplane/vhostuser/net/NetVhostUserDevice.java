package io.vioplane.vhostuser.net;

import io.vioplane.vhostuser.backend.QueueServingVhostUserDevice;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.virtionet.Rarp;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.vring.VirtioFeature;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@link VirtioNetDevice} as a vhost-user device: queue pairs are started and enabled ring by ring as the
 * front-end asks (its own multiqueue handling decides which pairs are in use), GET_QUEUE_NUM answers the number
 * of queue pairs (what QEMU's and DPDK's front-ends compare against), NET_SET_MTU sets the configuration's MTU,
 * and SEND_RARP sends a RARP announcement out of the port.
 */
public final class NetVhostUserDevice extends QueueServingVhostUserDevice<VirtioNetDevice> {
    /** Protocol features a net device may add to the back-end's: RARP, and MTU when the MTU feature is offered. */
    public static final long NET_PROTOCOL_FEATURES = VirtioFeature.mask(ProtocolFeature.RARP, ProtocolFeature.MTU);

    private final MemorySegment announcement = Arena.ofAuto().allocate(Rarp.FRAME_BYTES);
    private final BufferTxFrame announcementFrame = new BufferTxFrame();

    /** @param device the net device to serve */
    public NetVhostUserDevice(final VirtioNetDevice device) {
        super(device);
    }

    /** @return the net device */
    public VirtioNetDevice netDevice() {
        return device;
    }

    @Override
    public long deviceProtocolFeatures() {
        long extra = VirtioFeature.bit(ProtocolFeature.RARP);
        if (VirtioFeature.has(device.offeredFeatures(), VirtioNetFeature.MTU)) {
            extra |= VirtioFeature.bit(ProtocolFeature.MTU);
        }
        return extra;
    }

    @Override
    public long queueNumReply() {
        return device.configuration().maxVirtqueuePairs();
    }

    @Override
    public boolean writeConfig(final long offset, final MemorySegment source, final boolean migration) {
        if (!migration) {
            return false;
        }
        final VirtioNetConfig config = device.configuration();
        if (offset == 0 && source.byteSize() >= 6) {
            config.mac(source.asSlice(0, 6).toArray(ValueLayout.JAVA_BYTE));
        }
        return true;
    }

    @Override
    public boolean setMtu(final int mtu) {
        if (!VirtioFeature.has(device.offeredFeatures(), VirtioNetFeature.MTU)) {
            return false;
        }
        device.configuration().mtu(mtu);
        return true;
    }

    @Override
    public void announce(final byte[] mac) {
        MemorySegment.copy(Rarp.announcement(mac), 0, announcement, ValueLayout.JAVA_BYTE, 0, Rarp.FRAME_BYTES);
        device.port().transmit(0, announcementFrame.wrap(announcement, 0, Rarp.FRAME_BYTES));
        device.port().flush(0);
    }
}

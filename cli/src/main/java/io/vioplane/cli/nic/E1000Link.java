package io.vioplane.cli.nic;

import io.vioplane.e1000.E1000Device;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.tap.bridge.TapBridgePort;
import io.vioplane.virtionet.port.DiscardPort;
import io.vioplane.virtionet.port.NetPort;

/**
 * The network side of one hosted 82540EM, the same for every host ({@code vioplane e1000-remote --tap},
 * {@code vioplane run --device e1000 --tap}): with a TAP, the device's port is a {@link GuestBridgePort} on a
 * two-port {@link Bridge} whose other port is the TAP ({@link TapBridgePort}: batched writes, burst reads);
 * without one, a {@link DiscardPort} that drops what the device sends and gives it nothing.
 *
 * <p>{@link #poll(E1000Device)} is the host's duty cycle: frames from the TAP into the bridge, then the device's
 * timed work and up to {@link #RECEIVE_BUDGET} frames into its receive ring (8254x SDM 3.2). Whoever calls it must
 * serialize it with the device's register accesses (the device is not thread-safe).
 */
public final class E1000Link implements AutoCloseable {
    /** The TAP's and the device port's MTU. */
    public static final int MTU = 1500;
    /** Frames that can wait for the guest's receive ring. */
    public static final int GUEST_QUEUED_FRAMES = 256;
    /** Frames moved from the port into the receive ring per duty cycle. */
    public static final int RECEIVE_BUDGET = 64;
    /**
     * Auto-negotiation time: QEMU's e1000 takes 500 ms (hardware 1-3 s); Linux's probe checks the link for 100 us
     * after restarting negotiation, and must find it down as it does on hardware.
     */
    public static final long AUTO_NEGOTIATION_NS = 500_000_000L;

    private final NetPort port;
    private final DataPlane.Pollable hostSide;
    private final TapBridgePort tap;
    private final GuestBridgePort guest;

    private E1000Link(final NetPort port, final TapBridgePort tap, final GuestBridgePort guest) {
        this.port = port;
        this.hostSide = tap;
        this.tap = tap;
        this.guest = guest;
    }

    /** A link that drops every frame the device sends and delivers none. */
    public static E1000Link discarding() {
        return new E1000Link(new DiscardPort(), null, null);
    }

    /**
     * Bridges the device onto TAP {@code tapName} (created if missing).
     *
     * @param dataPlane the thread that will {@link #poll} (the TAP wakes it when readable), or null when the host
     *                  polls by other means
     */
    public static E1000Link tap(final String tapName, final Counters counters, final DataPlane dataPlane,
                                final ErrorLog log) {
        final Bridge bridge = Bridge.create("br0", counters);
        final TapBridgePort tap = new TapBridgePort(tapName, false, bridge, MTU, counters, dataPlane, log);
        try {
            final GuestBridgePort guest = new GuestBridgePort("e1000", bridge, MTU, null, GUEST_QUEUED_FRAMES);
            return new E1000Link(guest, tap, guest);
        } catch (RuntimeException e) {
            tap.close();
            throw e;
        }
    }

    /** @return the device's port (queue pair 0) */
    public NetPort port() {
        return port;
    }

    /** @return what moves the TAP's frames into the port, or null without a TAP */
    public DataPlane.Pollable hostSide() {
        return hostSide;
    }

    /** One duty cycle: the host side, then the device. @return frames moved */
    public int poll(final E1000Device device) {
        return poll(hostSide, device);
    }

    /** One duty cycle of {@code device} behind {@code hostSide} (null: none). @return frames moved */
    public static int poll(final DataPlane.Pollable hostSide, final E1000Device device) {
        final int fromHost = hostSide == null ? 0 : hostSide.poll();
        return fromHost + device.poll(RECEIVE_BUDGET);
    }

    /** Closes the TAP (a TAP this process created disappears) and the guest port. */
    @Override
    public void close() {
        try {
            if (tap != null) {
                tap.close();
            }
        } finally {
            if (guest != null) {
                guest.close();
            }
        }
    }
}

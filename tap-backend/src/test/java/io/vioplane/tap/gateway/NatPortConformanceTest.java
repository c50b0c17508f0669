package io.vioplane.tap.gateway;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.testkit.NetPortConformance;

/**
 * A guest's bridge port to the virtual gateway keeps the NetPort contract; the gateway (host-only, so no TAP is
 * needed) answers ARP for its address 10.0.2.2. The question is an ARP probe (sender 0.0.0.0, RFC 5227): a guest
 * without a lease may only ask that way.
 */
class NatPortConformanceTest extends NetPortConformance {
    private static final byte[] GUEST_MAC = {0x02, 0, 0, 0, 0x6c, 0x01};
    private static final byte[] UNLEASED = {0, 0, 0, 0};
    private static final byte[] GATEWAY_IP = {10, 0, 2, 2};

    private GuestBridgePort guest;
    private NatGateway gateway;

    @Override
    protected NetPort openPort() {
        final Counters counters = Counters.inMemory(1024);
        final Bridge bridge = Bridge.create("nat-conformance", counters);
        guest = new GuestBridgePort("vm", bridge, 1500, GUEST_MAC, 64);
        gateway = new NatGateway("conformance", NatConfig.builder().hostOnly().build(), bridge, null, counters,
                System::nanoTime, null);
        return guest;
    }

    @Override
    protected void closePort() {
        gateway.close();
        guest.close();
    }

    @Override
    protected void advance() {
        gateway.poll();
    }

    @Override
    protected byte[] askingFrame() {
        return arpRequest(GUEST_MAC, UNLEASED, GATEWAY_IP);
    }
}

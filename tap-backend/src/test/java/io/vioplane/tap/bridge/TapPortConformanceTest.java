package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.virtionet.testkit.NetPortConformance;

/**
 * A guest's bridge port to a TAP keeps the NetPort contract; behind the TAP the kernel, in a network namespace of
 * the test's own, answers ARP for its address. Needs root and TAP devices (skipped loudly otherwise).
 */
class TapPortConformanceTest extends NetPortConformance {
    private static final byte[] GUEST_MAC = {0x02, 0, 0, 0, 0x5c, 0x01};
    private static final byte[] GUEST_IP = {10, 98, 0, 2};
    private static final byte[] HOST_IP = {10, 98, 0, 1};

    private Netns netns;
    private GuestBridgePort guest;
    private TapBridgePort tap;

    @Override
    protected NetPort openPort() {
        Requirements.requireTapAndNetns();
        final String name = "vpc" + ProcessHandle.current().pid() % 100000;
        final Bridge bridge = Bridge.create("tap-conformance", Counters.inMemory(256));
        netns = Netns.create("conformance");
        guest = new GuestBridgePort("vm", bridge, 1500, GUEST_MAC, 64);
        tap = new TapBridgePort(name, false, bridge, 1500, Counters.inMemory(16), null,
                ErrorLog.printingTo(line -> { }));
        netns.adopt(name);
        netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + name + ".disable_ipv6=1");
        netns.exec("ip", "addr", "add", "10.98.0.1/24", "dev", name);
        netns.exec("ip", "link", "set", name, "up");
        return guest;
    }

    @Override
    protected void closePort() {
        if (tap != null) {
            tap.close();
        }
        if (guest != null) {
            guest.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    @Override
    protected void advance() {
        tap.poll();
    }

    @Override
    protected byte[] askingFrame() {
        return arpRequest(GUEST_MAC, GUEST_IP, HOST_IP);
    }
}

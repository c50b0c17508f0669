package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatTimeouts;
import io.vioplane.tap.nat.PortForward;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.Ipv4Prefix;
import io.vioplane.platform.packet.MacAddress;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** The configuration record: QEMU-like defaults, parsing, and validation messages that name the field. */
class NatConfigTest {
    private static NatConfig.Builder nat() {
        return NatConfig.builder().nat("vpnat0", Ipv4Address.parse("10.0.3.2"), 24, Ipv4Address.parse("10.0.3.1"));
    }

    private static void rejected(final String field, final Consumer<NatConfig.Builder> change) {
        final NatConfig.Builder builder = nat();
        change.accept(builder);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, builder::build);
        assertTrue(e.getMessage().startsWith("nat config: " + field + " "), "names " + field + ": " + e.getMessage());
    }

    @Test
    void defaultsAreThoseOfQemuUserNetworking() {
        final NatConfig config = NatConfig.builder().build();
        assertEquals(NatMode.HOST_ONLY, config.mode());
        assertEquals("10.0.2.0/24", config.guestSubnet().toString());
        assertEquals("10.0.2.2", config.gateway().toString());
        assertEquals("52:55:0a:00:02:02", config.gatewayMac().toString());
        assertEquals("10.0.2.15", config.firstGuestAddress().toString());
        assertEquals(16, config.leasePoolSize());
        assertEquals(86_400, config.leaseTimeSeconds());
        assertNull(config.dnsServer());
        assertTrue(config.enforceLeasedSource());
        assertEquals("10.0.3.0/24", nat().build().hostNetwork().toString());
    }

    @Test
    void portForwardsParseAndPrint() {
        final PortForward tcp = PortForward.parse("tcp:8080:10.0.2.15:80");
        assertEquals(PortForward.Protocol.TCP, tcp.protocol());
        assertEquals(8080, tcp.hostPort());
        assertEquals("10.0.2.15", tcp.guestAddress().toString());
        assertEquals(80, tcp.guestPort());
        assertEquals("udp:53:10.0.2.16:5353", PortForward.parse("UDP:53:10.0.2.16:5353").toString());
        assertThrows(IllegalArgumentException.class, () -> PortForward.parse("sctp:1:10.0.2.15:1"));
        assertThrows(IllegalArgumentException.class, () -> PortForward.parse("tcp:0:10.0.2.15:1"));
        assertThrows(IllegalArgumentException.class, () -> PortForward.parse("tcp:80:10.0.2:1"));
        assertThrows(IllegalArgumentException.class, () -> PortForward.parse("tcp:80:10.0.2.15"));
    }

    @Test
    void addressesParseAsLiteralsOnly() {
        assertEquals(0x0A00_020F, Ipv4Address.parse("10.0.2.15").value());
        assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse("localhost"));
        assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse("10.0.2.256"));
        assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse("10.0.2.1/24"), "host bits set");
        assertEquals("02:00:00:00:00:01", MacAddress.parse("02:00:00:00:00:01").toString());
    }

    @Test
    void everyInvalidComponentIsNamed() {
        rejected("guestSubnet", b -> b.guestSubnet(Ipv4Prefix.parse("10.0.0.0/8")));
        rejected("gateway", b -> b.gateway(Ipv4Address.parse("10.0.9.2")));
        rejected("gateway", b -> b.gateway(Ipv4Address.parse("10.0.2.255")));
        rejected("gatewayMac", b -> b.gatewayMac(MacAddress.parse("01:00:5e:00:00:01")));
        rejected("firstGuestAddress", b -> b.firstGuestAddress(Ipv4Address.parse("10.1.2.15")));
        rejected("firstGuestAddress", b -> b.firstGuestAddress(Ipv4Address.parse("10.0.2.1")));
        rejected("leasePoolSize", b -> b.leasePoolSize(300));
        rejected("leasePoolSize", b -> b.leasePoolSize(0));
        rejected("leaseTimeSeconds", b -> b.leaseTimeSeconds(10));
        rejected("dnsServer", b -> b.dnsServer(Ipv4Address.parse("10.0.2.3")));
        rejected("dnsServer", b -> b.dnsServer(Ipv4Address.parse("224.0.0.1")));
        rejected("guestMtu", b -> b.guestMtu(100));
        rejected("hostAddress", b -> b.nat("vpnat0", Ipv4Address.parse("10.0.2.200"), 16,
                Ipv4Address.parse("10.0.3.1")));
        rejected("nextHop", b -> b.nat("vpnat0", Ipv4Address.parse("10.0.3.2"), 24, Ipv4Address.parse("10.0.4.1")));
        rejected("nextHop", b -> b.nat("vpnat0", Ipv4Address.parse("10.0.3.2"), 24, Ipv4Address.parse("10.0.3.2")));
        rejected("tapName", b -> b.nat("a-name-far-too-long", Ipv4Address.parse("10.0.3.2"), 24,
                Ipv4Address.parse("10.0.3.1")));
        rejected("hostPrefixLength", b -> b.nat("vpnat0", Ipv4Address.parse("10.0.3.2"), 31,
                Ipv4Address.parse("10.0.3.3")));
        rejected("hostMac", b -> b.hostMac(MacAddress.parse("52:55:0a:00:02:02")));
        rejected("hostMtu", b -> b.hostMtu(70_000));
        rejected("hostOffloads", b -> b.hostOffloads(0x100));
        rejected("forwards", b -> b.forward(PortForward.parse("tcp:80:10.0.9.15:80")));
        rejected("forwards", b
                -> b.forward(PortForward.parse("tcp:80:10.0.2.15:80"))
                        .forward(PortForward.parse("tcp:80:10.0.2.16:80")));
        rejected("forwards", b -> b.forward(PortForward.parse("tcp:80:10.0.2.2:80")));
        rejected("connectionCapacity", b -> b.connectionCapacity(8));
        rejected("perGuestConnectionLimit", b -> b.perGuestConnectionLimit(1_000_000));
        rejected("timeouts.tcpEstablishedNs", b -> b.timeouts(new NatTimeouts(1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                1)));
        final IllegalArgumentException hostOnly = assertThrows(IllegalArgumentException.class,
                () -> NatConfig.builder().forward(PortForward.parse("tcp:80:10.0.2.15:80")).build());
        assertEquals("nat config: forwards port forwarding needs NAT mode", hostOnly.getMessage());
    }

    @Test
    void theGatewayRefusesAHostLinkThatDoesNotMatchItsMode() {
        final io.vioplane.platform.runtime.Counters counters = io.vioplane.platform.runtime.Counters.inMemory(256);
        final io.vioplane.tap.bridge.Bridge bridge = io.vioplane.tap.bridge.Bridge.create("b", counters);
        assertThrows(IllegalArgumentException.class, () -> new NatGateway("x", nat().build(), bridge, null, counters,
                System::nanoTime, null));
        assertThrows(IllegalArgumentException.class, () -> new NatGateway("x", NatConfig.builder().build(), bridge,
                new FrameQueueLink(), counters, System::nanoTime, null));
    }
}

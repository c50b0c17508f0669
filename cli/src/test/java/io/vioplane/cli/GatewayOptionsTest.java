package io.vioplane.cli;

import io.vioplane.tap.gateway.NatConfig;
import io.vioplane.tap.gateway.NatMode;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.*;

/** The gateway options of {@code vioplane vhost-user-net} become a validated NAT configuration, or a clear error. */
class GatewayOptionsTest {
    private static GatewayOptions parse(final String... arguments) {
        final GatewayOptions options = new GatewayOptions();
        new CommandLine(options).parseArgs(arguments);
        return options;
    }

    @Test
    void noGatewayWithoutNatOrHostOnly() {
        assertNull(parse().toConfig(1500));
    }

    @Test
    void natDefaultsFollowQemuUserNetworking() {
        final NatConfig config = parse("--nat", "vpnat0", "--forward", "tcp:2222:10.0.2.15:22").toConfig(1500);
        assertEquals(NatMode.NAT, config.mode());
        assertEquals("10.0.2.0/24", config.guestSubnet().toString());
        assertEquals("10.0.2.2", config.gateway().toString());
        assertEquals("10.0.2.15", config.firstGuestAddress().toString());
        assertEquals("10.0.3.2", config.hostAddress().toString());
        assertEquals("10.0.3.1", config.nextHop().toString());
        assertEquals("vpnat0", config.tapName());
        assertEquals(1, config.forwards().size());
        assertTrue(config.enforceLeasedSource(), "guests send only from their lease unless told otherwise");
        assertFalse(parse("--nat", "t0", "--static-addresses").toConfig(1500).enforceLeasedSource());
    }

    @Test
    void aSmallSubnetLeasesFromItsThirdAddress() {
        final NatConfig config = parse("--host-only", "--subnet", "192.168.7.0/28").toConfig(1500);
        assertEquals(NatMode.HOST_ONLY, config.mode());
        assertEquals("192.168.7.2", config.gateway().toString());
        assertEquals("192.168.7.3", config.firstGuestAddress().toString());
        assertEquals(12, config.leasePoolSize());
    }

    @Test
    void rejectsForwardWithoutNat() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("--forward", "tcp:1:10.0.2.15:1").toConfig(1500)).getMessage().contains("--nat"));
        assertThrows(IllegalArgumentException.class,
                () -> parse("--host-only", "--forward", "tcp:1:10.0.2.15:1").toConfig(1500));
    }

    @Test
    void rejectsNatTogetherWithHostOnly() {
        assertThrows(IllegalArgumentException.class, () -> parse("--nat", "t0", "--host-only").toConfig(1500));
    }

    @Test
    void rejectsAHostLinkOverlappingTheGuests() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("--nat", "t0", "--nat-address", "10.0.2.200/24").toConfig(1500));
        assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
    }

    @Test
    void rejectsAnMtuBelowWhatDhcpNeeds() {
        assertThrows(IllegalArgumentException.class, () -> parse("--host-only").toConfig(500));
    }
}

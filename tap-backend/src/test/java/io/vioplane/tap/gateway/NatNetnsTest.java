package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.ConnectionTable;
import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatEvent;
import io.vioplane.tap.nat.Packets;
import io.vioplane.tap.nat.PortForward;
import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.testkit.TestNetGuest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The NAT against the real kernel: the gateway's TAP (its host side) is moved into a network namespace the test
 * creates, where it is the next hop 10.0.3.1 and peer programs (busybox nc) run. A test guest on real rings
 * leases its address by DHCP and opens TCP connections that the kernel answers through the NAT; a connection
 * from the namespace to a forwarded port reaches the guest; the kernel's own ICMP errors come back translated.
 * What the kernel saw is read with {@code ss} in the namespace. Namespaces, TAPs and processes are removed in
 * {@code finally}.
 */
@Tag("netns")
class NatNetnsTest {
    private static final int NS_ADDRESS = ip("10.0.3.1");
    private static final int HOST_ADDRESS = ip("10.0.3.2");
    private static final byte[] GUEST_MAC = TestNetGuest.GUEST_MAC;

    /** The guest, bridge and gateway, driven by hand on the test's thread. */
    private static final class Setup implements AutoCloseable {
        final String tap = "vpn" + ProcessHandle.current().pid() % 10000 + "h";
        final Counters counters = Counters.inMemory(512);
        final Bridge bridge = Bridge.create("nat-e2e", counters);
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        final Netns netns;
        final NatGateway gateway;
        final GuestBridgePort port;
        final TestNetGuest guest;
        final int[] tokens = new int[64];
        final int[] lengths = new int[64];
        final List<Packets.Parsed> inbox = new ArrayList<>();

        Setup(final NatConfig.Builder builder) {
            final NatConfig config = builder.nat(tap, new Ipv4Address(HOST_ADDRESS), 24, new Ipv4Address(NS_ADDRESS))
                    .build();
            Netns created = null;
            NatGateway opened = null;
            GuestBridgePort joined = null;
            try {
                created = Netns.create("nat");
                opened = NatGateway.open("e2e", config, bridge, counters, null,
                        ErrorLog.printingTo(new PrintStream(log, true, StandardCharsets.UTF_8)));
                created.adopt(tap);
                created.tryExec("sysctl", "-qw", "net.ipv6.conf." + tap + ".disable_ipv6=1");
                created.exec("ip", "addr", "add", "10.0.3.1/24", "dev", tap);
                created.exec("ip", "link", "set", tap, "up");
                joined = new GuestBridgePort("vm", bridge, 1500, GUEST_MAC, 64);
            } catch (RuntimeException e) {
                if (joined != null) {
                    joined.close();
                }
                if (opened != null) {
                    opened.close();
                }
                if (created != null) {
                    created.close();
                }
                throw e;
            }
            netns = created;
            gateway = opened;
            port = joined;
            guest = new TestNetGuest(0, port, 64);
            guest.postReceiveBuffers(0, 32, 2048);
        }

        void pump() {
            guest.pollUntilIdle(8);
            gateway.poll();
            guest.pollUntilIdle(8);
            while (guest.txQueue().reap(tokens, lengths, 64) > 0) {
                continue;
            }
            final int n = guest.rxQueue().reap(tokens, lengths, 64);
            for (int i = 0; i < n; i++) {
                final byte[] buffer = guest.receiveBuffer(tokens[i], lengths[i]);
                inbox.add(Packets.Parsed.of(Arrays.copyOfRange(buffer, VirtioNetHeader.BYTES, buffer.length)));
                guest.postReceiveBuffers(tokens[i], 1, 2048);
            }
        }

        void send(final byte[] frame) {
            guest.transmit(null, frame, false);
            pump();
        }

        /** Pumps until a received frame matches, and returns (and removes) it. */
        Packets.Parsed await(final String what, final Predicate<Packets.Parsed> wanted) throws InterruptedException {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                pump();
                for (Packets.Parsed frame : inbox) {
                    if (wanted.test(frame)) {
                        inbox.remove(frame);
                        return frame;
                    }
                }
                Thread.sleep(1);
            }
            throw new AssertionError("the guest never received " + what + "; counters: "
                    + describe(gateway.counters()));
        }

        void pumpUntil(final String what, final BooleanSupplier done) throws InterruptedException {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (!done.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("timed out waiting for " + what + "; counters: "
                            + describe(gateway.counters()));
                }
                pump();
                Thread.sleep(1);
            }
        }

        /** Leases an address by DHCP through the gateway. */
        int lease() throws InterruptedException {
            send(Dhcp.discover(GUEST_MAC, 0x5151, false, null));
            final Packets.Parsed offer = await("a DHCP offer", p -> p.protocol() == Packets.UDP
                    && p.sourcePort() == 67);
            final int address = Packets.u32(offer.frame(), offer.l4() + 8 + DhcpMessage.YIADDR);
            send(Dhcp.request(GUEST_MAC, 0x5151, address, GatewayHarness.GATEWAY, false));
            await("a DHCP ack", p -> p.protocol() == Packets.UDP && Dhcp.messageType(p) == DhcpMessage.ACK);
            return address;
        }

        byte[] tcp(final int source, final int destination, final int sourcePort, final int destinationPort,
                   final long sequence, final long acknowledgment, final int flags, final byte[] data) {
            return new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, GUEST_MAC).addresses(source, destination)
                    .payload(Packets.TCP, Packets.tcp(source, destination, sourcePort, destinationPort, sequence,
                            acknowledgment, flags, data)).frame();
        }

        String ss() {
            return netns.exec("ss", "-tnH");
        }

        @Override
        public void close() {
            guest.close();
            port.close();
            gateway.close();
            netns.close();
        }
    }

    static String describe(final NatCounters counters) {
        final StringBuilder text = new StringBuilder();
        for (NatDrop drop : NatDrop.values()) {
            if (counters.drops(drop) > 0) {
                text.append(drop).append('=').append(counters.drops(drop)).append(' ');
            }
        }
        for (NatEvent event : NatEvent.values()) {
            if (counters.events(event) > 0) {
                text.append(event).append('=').append(counters.events(event)).append(' ');
            }
        }
        return text.toString();
    }

    /** @return true if {@code ss} output shows {@code address:port}, plain or IPv4-mapped ([::ffff:a.b.c.d]:port) */
    private static boolean mentions(final String sockets, final String address, final int port) {
        return sockets.contains(address + ":" + port) || sockets.contains(address + "]:" + port);
    }

    private static void requirePeers() {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("busybox", "busybox (nc)");
        Requirements.requireCommand("ss", "iproute2 (ss)");
    }

    private static void awaitListening(final Setup s, final int port) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!s.netns.exec("ss", "-ltnH").contains(":" + port + " ")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nothing listens on " + port + " in the namespace");
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aGuestsTcpConnectionIsTranslatedToAServerInTheNamespaceAndBack() throws Exception {
        requirePeers();
        try (Setup s = new Setup(NatConfig.builder());
             BackgroundCommand server = new BackgroundCommand(s.netns.commandLine("busybox", "nc", "-l", "-p",
                     "7000"))) {
            awaitListening(s, 7000);
            final int guest = s.lease();
            assertEquals(ip("10.0.2.15"), guest);
            s.send(s.tcp(guest, NS_ADDRESS, 40000, 7000, 1000, 0, Packets.SYN, new byte[0]));
            final Packets.Parsed synAck = s.await("the server's SYN-ACK",
                    p -> p.protocol() == Packets.TCP && (p.flags() & Packets.SYN) != 0);
            assertEquals(NS_ADDRESS, synAck.source());
            assertEquals(7000, synAck.sourcePort());
            assertEquals(guest, synAck.destination(), "translated back to the guest");
            assertEquals(40000, synAck.destinationPort());
            assertEquals(Packets.SYN | Packets.ACK, synAck.flags());
            assertEquals(1001, synAck.acknowledgment());
            assertTrue(synAck.ipChecksumValid(), "IP checksum from scratch");
            assertTrue(synAck.transportChecksumValid(), "TCP checksum from scratch");
            assertEquals(1, s.gateway.counters().events(NatEvent.HOST_ARP_RESOLVED), "the kernel answered our ARP");

            final long serverSequence = synAck.sequence() + 1;
            s.send(s.tcp(guest, NS_ADDRESS, 40000, 7000, 1001, serverSequence, Packets.ACK, new byte[0]));
            final byte[] hello = "hello from the guest\n".getBytes(StandardCharsets.UTF_8);
            s.send(s.tcp(guest, NS_ADDRESS, 40000, 7000, 1001, serverSequence, Packets.ACK | Packets.PSH, hello));
            s.pumpUntil("the server to print the guest's line", () -> server.output().contains("hello from the guest"));
            final String sockets = s.ss();
            assertTrue(mentions(sockets, "10.0.3.1", 7000) && mentions(sockets, "10.0.3.2", 40000),
                    "the kernel sees the NAT's address, not the guest's: " + sockets);
            assertFalse(sockets.contains("10.0.2.15"), sockets);

            server.write("hello from the namespace\n");
            final Packets.Parsed data = s.await("the server's data",
                    p -> p.protocol() == Packets.TCP && p.tcpData().length > 0);
            assertEquals("hello from the namespace\n", new String(data.tcpData(), StandardCharsets.UTF_8));
            assertEquals(guest, data.destination());
            assertEquals(40000, data.destinationPort());
            assertTrue(data.ipChecksumValid() && data.transportChecksumValid());
            assertEquals(1001 + hello.length, data.acknowledgment(), "the kernel got every guest byte once");
            final int entry = s.gateway.connections().findFromGuest(IpProtocol.TCP, guest, 40000, NS_ADDRESS, 7000,
                    System.nanoTime());
            assertEquals("ESTABLISHED", ConnectionTable.stateName(s.gateway.connections().state(entry)));
            assertEquals(0, s.gateway.counters().drops(NatDrop.L4_BAD_CHECKSUM));
        }
    }

    @Test
    void aConnectionFromTheNamespaceToAForwardedPortReachesTheGuest() throws Exception {
        requirePeers();
        try (Setup s = new Setup(NatConfig.builder().forward(PortForward.parse("tcp:8080:10.0.2.15:80")))) {
            final int guest = s.lease();
            try (BackgroundCommand client = new BackgroundCommand(
                    s.netns.commandLine("busybox", "nc", "10.0.3.2", "8080"))) {
                final Packets.Parsed syn = s.await("the namespace's SYN",
                        p -> p.protocol() == Packets.TCP && p.flags() == Packets.SYN);
                assertEquals(NS_ADDRESS, syn.source(), "the client's address is kept");
                assertEquals(guest, syn.destination(), "forwarded to the guest ...");
                assertEquals(80, syn.destinationPort(), "... and its port");
                assertTrue(syn.ipChecksumValid() && syn.transportChecksumValid());
                final int clientPort = syn.sourcePort();
                final long clientSequence = syn.sequence() + 1;
                s.send(s.tcp(guest, NS_ADDRESS, 80, clientPort, 5000, clientSequence, Packets.SYN | Packets.ACK,
                        new byte[0]));
                s.await("the handshake's ACK", p -> p.protocol() == Packets.TCP && p.flags() == Packets.ACK
                        && p.acknowledgment() == 5001);
                final String sockets = s.ss();
                assertTrue(sockets.contains("ESTAB") && mentions(sockets, "10.0.3.2", 8080),
                        "the kernel's connection is to the forwarded port: " + sockets);

                client.write("from the namespace\n");
                final Packets.Parsed data = s.await("the client's data",
                        p -> p.protocol() == Packets.TCP && p.tcpData().length > 0);
                assertEquals("from the namespace\n", new String(data.tcpData(), StandardCharsets.UTF_8));
                assertEquals(80, data.destinationPort());
                final byte[] reply = "from the guest\n".getBytes(StandardCharsets.UTF_8);
                s.send(s.tcp(guest, NS_ADDRESS, 80, clientPort, 5001, data.sequence() + data.tcpData().length,
                        Packets.ACK | Packets.PSH, reply));
                s.pumpUntil("the client to print the guest's line", () -> client.output().contains("from the guest"));
            }
        }
    }

    @Test
    void theKernelsIcmpErrorsComeBackTranslated() throws Exception {
        requirePeers();
        try (Setup s = new Setup(NatConfig.builder())) {
            final int guest = s.lease();
            s.send(new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, GUEST_MAC).addresses(guest, NS_ADDRESS)
                    .payload(Packets.UDP, Packets.udp(guest, NS_ADDRESS, 41000, 9, "anyone?".getBytes(),
                            true)).frame());
            final Packets.Parsed unreachable = s.await("a port unreachable",
                    p -> p.protocol() == Packets.ICMP && p.icmpType() == 3);
            assertEquals(3, unreachable.frame()[unreachable.l4() + 1], "code 3: port unreachable");
            assertEquals(NS_ADDRESS, unreachable.source());
            assertEquals(guest, unreachable.destination());
            assertTrue(unreachable.ipChecksumValid() && unreachable.transportChecksumValid());
            final Packets.Parsed quoted = unreachable.quoted();
            assertEquals(guest, quoted.source(), "the quoted datagram is the guest's again");
            assertEquals(41000, quoted.sourcePort());
            assertTrue(quoted.ipChecksumValid());
            assertTrue(quoted.transportChecksumValid(), "the kernel quoted it whole: its UDP checksum verifies");

            s.netns.exec("sysctl", "-qw", "net.ipv4.ip_forward=1");
            s.netns.exec("ip", "route", "add", "10.0.9.0/24", "via", "10.0.3.99", "dev", s.tap);
            final int beyond = ip("10.0.9.9");
            s.send(new Packets.Ip().macs(GatewayHarness.GATEWAY_MAC, GUEST_MAC).addresses(guest, beyond).ttl(2)
                    .payload(Packets.UDP, Packets.udp(guest, beyond, 33434, 33434, new byte[8], true)).frame());
            final Packets.Parsed exceeded = s.await("a time exceeded",
                    p -> p.protocol() == Packets.ICMP && p.icmpType() == 11);
            assertEquals(guest, exceeded.destination());
            assertTrue(exceeded.ipChecksumValid() && exceeded.transportChecksumValid());
            assertEquals(guest, exceeded.quoted().source());
            assertEquals(1, exceeded.quoted().ttl(), "the NAT decremented the TTL on the way out");
            assertEquals(2, s.gateway.counters().events(NatEvent.ICMP_ERRORS_TRANSLATED));
        }
    }

    @Test
    void theNamespacePingsTheNatsHostAddress() throws Exception {
        requirePeers();
        Requirements.requireCommand("ping", "iputils-ping");
        try (Setup s = new Setup(NatConfig.builder());
             BackgroundCommand ping = new BackgroundCommand(s.netns.commandLine("ping", "-c", "2", "-i", "0.2", "-W",
                     "5", "10.0.3.2"))) {
            s.pumpUntil("ping to finish", ping::finished);
            assertEquals(0, ping.waitFor(5), ping.output());
            assertTrue(s.gateway.counters().events(NatEvent.HOST_ARP_REPLIES) >= 1, "the kernel's ARP was answered");
            assertEquals(2, s.gateway.counters().events(NatEvent.ICMP_ECHO_REPLIES));
        }
    }
}

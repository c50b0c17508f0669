package io.vioplane.tap.nat;

import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Prefix;
import io.vioplane.platform.packet.TcpHeader;
import io.vioplane.platform.runtime.Counters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static io.vioplane.tap.nat.ConnectionTable.*;
import static io.vioplane.tap.nat.Packets.ip;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Connection tracking: TCP states and their timeouts (with a clock the test moves), UDP and ICMP timeouts,
 * endpoint-independent mapping (RFC 4787 REQ-1), the per-guest limit, eviction under a flood of new flows, and
 * the index under random insertions and deletions.
 */
class ConnectionTableTest {
    private static final int GUEST = ip("10.0.2.15");
    private static final int OTHER_GUEST = ip("10.0.2.16");
    private static final int REMOTE = ip("192.0.2.80");
    private static final long MAC = 0x0200_0000_0001L;
    private static final int SYN = TcpHeader.SYN;
    private static final int SYN_ACK = TcpHeader.SYN | TcpHeader.ACK;
    private static final int ACK = TcpHeader.ACK;
    private static final int FIN_ACK = TcpHeader.FIN | TcpHeader.ACK;

    private final Counters counters = Counters.inMemory(256);
    private final NatCounters natCounters = new NatCounters(counters, "ct");
    private final NatTimeouts timeouts = NatTimeouts.defaults();
    private long now = 1_000_000_000_000L;

    @AfterEach
    void tearDown() {
        natCounters.close();
    }

    private ConnectionTable table(final int capacity, final int perGuest, final List<PortForward> forwards) {
        return new ConnectionTable(capacity, perGuest, Ipv4Prefix.parse("10.0.2.0/24"), timeouts, forwards, 42,
                natCounters);
    }

    private static long seconds(final long s) {
        return TimeUnit.SECONDS.toNanos(s);
    }

    @Test
    void tcpGoesThroughTheHandshakeTheCloseAndTimeWaitThenExpires() {
        final ConnectionTable t = table(64, 64, List.of());
        final int e = t.openFromGuest(IpProtocol.TCP, GUEST, 40000, REMOTE, 80, MAC, SYN, now);
        assertTrue(e >= 0);
        t.seen(e, true, SYN, now);
        assertEquals("SYN_SENT", stateName(t.state(e)));
        t.seen(e, false, SYN_ACK, now);
        assertEquals("SYN_RECEIVED", stateName(t.state(e)));
        assertTrue(t.replied(e));
        t.seen(e, true, ACK, now);
        assertEquals("ESTABLISHED", stateName(t.state(e)));
        t.seen(e, true, FIN_ACK, now);
        assertEquals("FIN_WAIT", stateName(t.state(e)));
        t.seen(e, false, ACK, now);
        assertEquals("FIN_WAIT", stateName(t.state(e)), "one FIN is not a close");
        t.seen(e, false, FIN_ACK, now);
        assertEquals("TIME_WAIT", stateName(t.state(e)));
        t.seen(e, true, ACK, now);
        assertEquals(e, t.findFromGuest(IpProtocol.TCP, GUEST, 40000, REMOTE, 80, now + timeouts.tcpTimeWaitNs() - 1));
        assertEquals(-1, t.findFromGuest(IpProtocol.TCP, GUEST, 40000, REMOTE, 80, now + timeouts.tcpTimeWaitNs()),
                "TIME_WAIT ends after its timeout");
        assertEquals(0, t.size());
        assertEquals(1, natCounters.events(NatEvent.CONNECTIONS_EXPIRED));
    }

    @Test
    void anRstClosesAndTheEntryLivesOnlyTheClosedTimeout() {
        final ConnectionTable t = table(64, 64, List.of());
        final int e = t.openFromGuest(IpProtocol.TCP, GUEST, 40001, REMOTE, 80, MAC, SYN, now);
        t.seen(e, true, SYN, now);
        t.seen(e, false, TcpHeader.RST | TcpHeader.ACK, now);
        assertEquals("CLOSED", stateName(t.state(e)));
        assertEquals(0, t.expire(now + timeouts.tcpClosedNs() - 1, 100));
        assertEquals(1, t.expire(now + timeouts.tcpClosedNs(), 100));
        assertEquals(-1, t.findFromHost(IpProtocol.TCP, 40001, REMOTE, 80, now + timeouts.tcpClosedNs()));
    }

    @Test
    void aNewSynFromTheInitiatorReopensATimeWaitEntry() {
        final ConnectionTable t = table(64, 64, List.of());
        final int e = t.openFromGuest(IpProtocol.TCP, GUEST, 40002, REMOTE, 80, MAC, SYN, now);
        t.seen(e, true, SYN, now);
        t.seen(e, false, TcpHeader.RST, now);
        t.seen(e, true, SYN, now);
        assertEquals("SYN_SENT", stateName(t.state(e)), "RFC 5382: a new connection on the same 5-tuple");
        assertFalse(t.replied(e));
    }

    @Test
    void eachTcpStateHasItsOwnTimeout() {
        final ConnectionTable t = table(64, 64, List.of());
        final int synSent = t.openFromGuest(IpProtocol.TCP, GUEST, 1001, REMOTE, 80, MAC, SYN, now);
        t.seen(synSent, true, SYN, now);
        final int established = t.openFromGuest(IpProtocol.TCP, GUEST, 1002, REMOTE, 80, MAC, SYN, now);
        t.seen(established, true, SYN, now);
        t.seen(established, false, SYN_ACK, now);
        t.seen(established, true, ACK, now);
        assertEquals(0, t.expire(now + timeouts.tcpSynSentNs() - 1, 100));
        assertEquals(1, t.expire(now + timeouts.tcpSynSentNs(), 100), "an unanswered SYN goes after 240 s");
        assertEquals(established, t.findFromGuest(IpProtocol.TCP, GUEST, 1002, REMOTE, 80, now + seconds(7439)),
                "an established connection lives 2 h 4 min idle (RFC 5382 REQ-5)");
        assertEquals(-1, t.findFromGuest(IpProtocol.TCP, GUEST, 1002, REMOTE, 80, now + seconds(7439) + seconds(7440)));
        assertEquals(7440, TimeUnit.NANOSECONDS.toSeconds(timeouts.tcpEstablishedNs()));
    }

    @Test
    void trafficRefreshesTheIdleTimer() {
        final ConnectionTable t = table(64, 64, List.of());
        final int e = t.openFromGuest(IpProtocol.UDP, GUEST, 5353, REMOTE, 53, MAC, 0, now);
        t.seen(e, true, 0, now);
        final long later = now + timeouts.udpUnrepliedNs() - 1;
        t.seen(e, true, 0, later);
        assertEquals(e, t.findFromGuest(IpProtocol.UDP, GUEST, 5353, REMOTE, 53, later
                + timeouts.udpUnrepliedNs() - 1));
    }

    @Test
    void udpIsShortLivedUntilAnsweredThenLivesTheStreamTimeout() {
        final ConnectionTable t = table(64, 64, List.of());
        final int unanswered = t.openFromGuest(IpProtocol.UDP, GUEST, 5000, REMOTE, 53, MAC, 0, now);
        t.seen(unanswered, true, 0, now);
        final int answered = t.openFromGuest(IpProtocol.UDP, GUEST, 5001, REMOTE, 53, MAC, 0, now);
        t.seen(answered, true, 0, now);
        t.seen(answered, false, 0, now);
        assertEquals("UDP_UNREPLIED", stateName(t.state(unanswered)));
        assertEquals("UDP_REPLIED", stateName(t.state(answered)));
        assertEquals(1, t.expire(now + timeouts.udpUnrepliedNs(), 100));
        assertEquals(answered, t.findFromHost(IpProtocol.UDP, t.hostPort(answered), REMOTE, 53, now + seconds(179)));
        assertTrue(timeouts.udpRepliedNs() >= seconds(120), "RFC 4787 REQ-5: at least 2 minutes");
        assertEquals(-1, t.findFromHost(IpProtocol.UDP, t.hostPort(answered), REMOTE, 53, now + seconds(180)));
    }

    @Test
    void icmpEchoExpiresAfterThirtySeconds() {
        final ConnectionTable t = table(64, 64, List.of());
        final int e = t.openFromGuest(IpProtocol.ICMP, GUEST, 77, REMOTE, 0, MAC, 0, now);
        t.seen(e, true, 0, now);
        assertEquals(e, t.findFromHost(IpProtocol.ICMP, t.hostPort(e), REMOTE, 0, now + seconds(29)));
        assertEquals(-1, t.findFromHost(IpProtocol.ICMP, t.hostPort(e), REMOTE, 0, now + seconds(30)));
    }

    @Test
    void mappingsAreEndpointIndependentAndPreserveTheGuestPortWhenFree() {
        final ConnectionTable t = table(64, 64, List.of());
        final int first = t.openFromGuest(IpProtocol.UDP, GUEST, 40000, REMOTE, 53, MAC, 0, now);
        final int second = t.openFromGuest(IpProtocol.UDP, GUEST, 40000, ip("198.51.100.1"), 123, MAC, 0, now);
        assertEquals(40000, t.hostPort(first), "port preservation");
        assertEquals(t.hostPort(first), t.hostPort(second), "RFC 4787 REQ-1: same endpoint, same mapping");
        final int other = t.openFromGuest(IpProtocol.UDP, OTHER_GUEST, 40000, REMOTE, 53, MAC, 0, now);
        assertNotEquals(t.hostPort(first), t.hostPort(other), "another guest's endpoint gets another port");
        assertTrue(t.hostPort(other) >= PortMappings.FIRST_DYNAMIC_PORT);
        assertEquals(2, t.portMappings());
    }

    @Test
    void aForwardedPortIsNeverHandedToAnotherFlowAndReplyTrafficUsesIt() {
        final PortForward forward = PortForward.parse("tcp:8080:10.0.2.15:80");
        final ConnectionTable t = table(64, 64, List.of(forward));
        final int squatter = t.openFromGuest(IpProtocol.TCP, OTHER_GUEST, 8080, REMOTE, 443, MAC, SYN, now);
        assertNotEquals(8080, t.hostPort(squatter), "the forwarded port is reserved");
        final int inbound = t.openFromHost(IpProtocol.TCP, 8080, REMOTE, 50000, GUEST, 80, MAC, now);
        assertTrue(inbound >= 0);
        assertEquals(inbound, t.findFromGuest(IpProtocol.TCP, GUEST, 80, REMOTE, 50000, now));
        assertEquals(8080, t.hostPort(inbound));
        final int outboundFromServerPort = t.openFromGuest(IpProtocol.TCP, GUEST, 80, ip("198.51.100.7"), 25, MAC, SYN,
                now);
        assertEquals(8080, t.hostPort(outboundFromServerPort), "EIM: the guest's port 80 is mapped to 8080");
    }

    @Test
    void aGuestAtItsLimitIsRefusedWhileOthersAreNot() {
        final ConnectionTable t = table(64, 4, List.of());
        for (int i = 0; i < 4; i++) {
            assertTrue(t.openFromGuest(IpProtocol.UDP, GUEST, 2000 + i, REMOTE, 53, MAC, 0, now) >= 0);
        }
        assertEquals(REFUSED_GUEST_LIMIT, t.openFromGuest(IpProtocol.UDP, GUEST, 3000, REMOTE, 53, MAC, 0, now));
        assertTrue(t.openFromGuest(IpProtocol.UDP, OTHER_GUEST, 3000, REMOTE, 53, MAC, 0, now) >= 0);
        assertEquals(4, t.sizeOf(GUEST));
        assertTrue(t.openFromGuest(IpProtocol.UDP, GUEST, 3001, REMOTE, 53, MAC, 0, now
                + timeouts.udpUnrepliedNs()) >= 0,
                "expired flows make room again");
    }

    @Test
    void aFloodOfNewFlowsEvictsItselfNotTheEstablishedConnections() {
        final ConnectionTable t = table(64, 64, List.of());
        final int[] established = new int[8];
        for (int i = 0; i < established.length; i++) {
            established[i] = t.openFromGuest(IpProtocol.TCP, GUEST, 100 + i, REMOTE, 22, MAC, SYN, now);
            t.seen(established[i], true, SYN, now);
            t.seen(established[i], false, SYN_ACK, now);
            t.seen(established[i], true, ACK, now);
        }
        for (int i = 0; i < 10_000; i++) {
            now += 1000;
            final int e = t.openFromGuest(IpProtocol.TCP, OTHER_GUEST, 1024 + i % 60000, ip("203.0.113.1") + i, 80,
                    MAC, SYN, now);
            assertTrue(e >= 0, "the flood is admitted by evicting older flood entries");
            t.seen(e, true, SYN, now);
            assertTrue(t.size() <= 64, "bounded: " + t.size());
        }
        for (int i = 0; i < established.length; i++) {
            assertTrue(t.findFromGuest(IpProtocol.TCP, GUEST, 100 + i, REMOTE, 22, now) >= 0,
                    "established connection " + i + " survived the flood");
        }
        assertTrue(natCounters.events(NatEvent.CONNECTIONS_EVICTED) >= 10_000 - 56);
        assertEquals(64, t.size());
    }

    @Test
    void whenOnlyAnsweredFlowsAreLeftTheOneIdleLongestGoesFirst() {
        final ConnectionTable t = table(64, 64, List.of());
        for (int i = 0; i < 64; i++) {
            final int e = t.openFromGuest(IpProtocol.UDP, GUEST, 1000 + i, REMOTE, 53, MAC, 0, now + i);
            t.seen(e, false, 0, now + i);
        }
        t.seen(t.findFromGuest(IpProtocol.UDP, GUEST, 1000, REMOTE, 53, now + 100), true, 0, now + 100);
        assertTrue(t.openFromGuest(IpProtocol.UDP, OTHER_GUEST, 5000, REMOTE, 53, MAC, 0, now + 101) >= 0);
        assertTrue(t.findFromGuest(IpProtocol.UDP, GUEST, 1000, REMOTE, 53, now + 102) >= 0, "refreshed: kept");
        assertEquals(-1, t.findFromGuest(IpProtocol.UDP, GUEST, 1001, REMOTE, 53, now + 102), "idle longest: evicted");
    }

    @Test
    void portsRunOutOnlyAfterEveryDynamicPortIsMapped() {
        final PortMappings mappings = new PortMappings(70_000, 7);
        final int available = 65536 - PortMappings.FIRST_DYNAMIC_PORT;
        for (int i = 0; i < available; i++) {
            assertTrue(mappings.acquire(IpProtocol.UDP, ip("10.0.2.15") + i / 60000, i % 60000 + 1) >= 0, "port " + i);
        }
        assertEquals(-1, mappings.acquire(IpProtocol.UDP, ip("10.0.2.99"), 9), "exhausted");
        assertTrue(mappings.acquire(IpProtocol.TCP, ip("10.0.2.99"), 9) >= 0, "per protocol");
        mappings.release(IpProtocol.UDP, 9 + 0);
        assertEquals(-1, mappings.acquire(IpProtocol.UDP, ip("10.0.2.99"), 9), "port 9 was never a dynamic port");
    }

    @Test
    void theFlowIndexAgreesWithAHashMapUnderRandomInsertionsAndDeletions() {
        final FlowIndex index = new FlowIndex(512, 99);
        final Map<String, Integer> reference = new HashMap<>();
        final SplittableRandom random = new SplittableRandom(8);
        for (int op = 0; op < 200_000; op++) {
            final long high = random.nextInt(64);
            final long low = random.nextInt(64);
            final String key = high + "/" + low;
            if (random.nextBoolean() && !reference.containsKey(key) && reference.size() < 512) {
                index.put(high, low, op);
                reference.put(key, op);
            } else if (reference.containsKey(key)) {
                assertTrue(index.remove(high, low));
                reference.remove(key);
            } else {
                assertFalse(index.remove(high, low));
            }
            if (op % 997 == 0) {
                for (long h = 0; h < 64; h++) {
                    for (long l = 0; l < 64; l++) {
                        assertEquals(reference.getOrDefault(h + "/" + l, -1), index.get(h, l));
                    }
                }
            }
        }
        assertEquals(reference.size(), index.size());
    }
}

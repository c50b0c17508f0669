package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.testkit.TestNetGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Three test guests on one bridge, each with its own virtio-net device, guest memory and rings: learning,
 * forwarding, flooding, filtering, anti-spoofing, MTU, aging and a full database.
 */
class BridgeTest {
    private static final byte[] MAC_A = {0x02, 0, 0, 0, 0, 0x0A};
    private static final byte[] MAC_B = {0x02, 0, 0, 0, 0, 0x0B};
    private static final byte[] MAC_C = {0x02, 0, 0, 0, 0, 0x0C};
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    private static final int[] TOKENS = new int[64];
    private static final int[] LENGTHS = new int[64];

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private Bridge bridge;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private TestNetGuest a;
    private TestNetGuest b;
    private TestNetGuest c;
    private GuestBridgePort portA;
    private GuestBridgePort portB;
    private GuestBridgePort portC;

    @BeforeEach
    void setUp() {
        bridge = new Bridge("test", Counters.inMemory(512), 64, 10_000_000_000L, clock::get);
        portA = new GuestBridgePort("a", bridge, 1500, MAC_A, 64);
        portB = new GuestBridgePort("b", bridge, 1500, null, 64);
        portC = new GuestBridgePort("c", bridge, 576, null, 64);
        a = new TestNetGuest(0, portA, 64);
        b = new TestNetGuest(0, portB, 64);
        c = new TestNetGuest(0, portC, 64);
        for (TestNetGuest guest : List.of(a, b, c)) {
            guest.postReceiveBuffers(0, 32, 2048);
            closing.add(guest);
        }
        closing.addAll(List.of(portA, portB, portC));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable resource : closing) {
            resource.close();
        }
    }

    private void pollAll() {
        for (int round = 0; round < 5; round++) {
            a.pollUntilIdle(5);
            b.pollUntilIdle(5);
            c.pollUntilIdle(5);
        }
    }

    private static List<byte[]> received(final TestNetGuest guest) {
        final int count = guest.rxQueue().reap(TOKENS, LENGTHS, 64);
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            final byte[] buffer = guest.receiveBuffer(TOKENS[i], LENGTHS[i]);
            frames.add(Arrays.copyOfRange(buffer, VirtioNetHeader.BYTES, buffer.length));
        }
        return frames;
    }

    @Test
    void floodsUnknownThenForwardsOnlyToTheLearnedPort() {
        final byte[] first = TestNetGuest.ethernetFrame(MAC_B, MAC_A, 100, 1);
        a.transmit(null, first, false);
        pollAll();
        assertEquals(1, received(b).size(), "B is not known yet: flooded to B");
        assertEquals(1, received(c).size(), "... and to C");
        final byte[] reply = TestNetGuest.ethernetFrame(MAC_A, MAC_B, 100, 2);
        b.transmit(null, reply, false);
        pollAll();
        final List<byte[]> atA = received(a);
        assertEquals(1, atA.size(), "A was learned from its first frame: forwarded, not flooded");
        assertArrayEquals(reply, atA.getFirst());
        assertEquals(0, received(c).size(), "C does not see unicast between A and B");
        a.transmit(null, TestNetGuest.ethernetFrame(MAC_B, MAC_A, 80, 3), false);
        pollAll();
        assertEquals(1, received(b).size());
        assertEquals(0, received(c).size(), "B is learned now: no flooding");
        assertEquals(1, bridge.counters(portC.index()).flooded());
    }

    @Test
    void floodsBroadcastToEveryOtherPortButNotBack() {
        a.transmit(null, TestNetGuest.ethernetFrame(BROADCAST, MAC_A, 60, 1), false);
        pollAll();
        assertEquals(1, received(b).size());
        assertEquals(1, received(c).size());
        assertEquals(0, received(a).size(), "a frame never goes back out of the port it came in");
    }

    @Test
    void dropsAndCountsASpoofedSourceOnAnAntiSpoofPort() {
        a.transmit(null, TestNetGuest.ethernetFrame(BROADCAST, MAC_C, 60, 1), false);
        pollAll();
        assertEquals(0, received(b).size());
        assertEquals(1, bridge.counters(portA.index()).spoofed());
        assertEquals(-1, bridge.forwardingDatabase().lookup(TestNetGuestMac.value(MAC_C), clock.get()),
                "a spoofed address is not learned");
    }

    @Test
    void enforcesTheEgressPortMtu() {
        b.transmit(null, TestNetGuest.ethernetFrame(BROADCAST, MAC_B, 1000, 1), false);
        pollAll();
        assertEquals(1, received(a).size(), "1014 bytes fit A's MTU of 1500");
        assertEquals(0, received(c).size(), "but not C's MTU of 576");
        assertEquals(1, bridge.counters(portC.index()).tooBig());
    }

    /**
     * Found building the soak's accounting: a frame whose destination was learned on the port it came from was
     * filtered without a count, a runt was counted as a multicast source, and nothing said which frames were flooded.
     */
    @Test
    void everyFrameIsAccountedForOnTheWayInAndOut() {
        a.transmit(null, TestNetGuest.ethernetFrame(BROADCAST, MAC_A, 60, 1), false);
        b.transmit(null, TestNetGuest.ethernetFrame(MAC_A, MAC_B, 60, 2), false);
        pollAll();
        b.transmit(null, TestNetGuest.ethernetFrame(MAC_B, MAC_C, 60, 3), false);
        c.transmit(null, TestNetGuest.ethernetFrame(MAC_B, MAC_C, 1000, 4), false);
        pollAll();
        final BridgePortCounters atA = bridge.counters(portA.index());
        final BridgePortCounters atB = bridge.counters(portB.index());
        final BridgePortCounters atC = bridge.counters(portC.index());
        assertEquals(1, atA.floodedIn(), "A's broadcast");
        assertEquals(1, atB.samePort(), "B sent from C's address to itself (learned on B): filtered, counted");
        assertEquals(0, atC.samePort(), "C's frame to B went to B, where B learned it last");
        long offered = 0;
        long taken = 0;
        for (BridgePortCounters port : List.of(atA, atB, atC)) {
            final long unicast = port.inPackets() - port.floodedIn() - port.samePort() - port.spoofed();
            offered += unicast + port.floodedIn() * 2;
            taken += port.outPackets() + port.tooBig() + port.egressFull();
        }
        assertEquals(offered, taken, "every frame offered to a port was sent or dropped there");
        assertEquals(4, atA.inPackets() + atB.inPackets() + atC.inPackets());
    }

    @Test
    void forgetsAnAddressAfterTheAgingTime() {
        a.transmit(null, TestNetGuest.ethernetFrame(BROADCAST, MAC_A, 60, 1), false);
        pollAll();
        received(b);
        received(c);
        assertEquals(portA.index(), bridge.forwardingDatabase().lookup(TestNetGuestMac.value(MAC_A), clock.get()));
        clock.addAndGet(11_000_000_000L);
        assertEquals(-1, bridge.forwardingDatabase().lookup(TestNetGuestMac.value(MAC_A), clock.get()), "aged out");
    }

    @Test
    void aGuestFloodingRandomSourcesCannotGrowTheDatabase() {
        final ForwardingDatabase fdb = new ForwardingDatabase(64, 10_000_000_000L);
        int full = 0;
        for (long mac = 1; mac <= 10_000; mac++) {
            if (fdb.learn(mac << 8, 1, 1) == ForwardingDatabase.Learned.FULL) {
                full++;
            }
        }
        assertTrue(fdb.approximateSize() <= 64, "bounded by its capacity: " + fdb.approximateSize());
        assertEquals(full, fdb.refused());
        assertTrue(full > 9_000, "most were refused and counted: " + full);
        assertEquals(ForwardingDatabase.Learned.NEW, fdb.learn(0xABCDEFL, 2, 20_000_000_000L),
                "aged-out slots are reused");
    }

    /** MAC helpers for the test. */
    private static final class TestNetGuestMac {
        static long value(final byte[] mac) {
            long value = 0;
            for (byte b : mac) {
                value = value << 8 | (b & 0xFF);
            }
            return value;
        }
    }
}

package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.testkit.TestNetGuest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A test guest bridged onto a real TAP device living in a network namespace the test creates: frames cross
 * both ways through the bridge; a link going down and up, and a TAP deleted and re-created, are survived.
 */
@Tag("netns")
class TapBridgePortTest {
    private static final byte[] GUEST_MAC = TestNetGuest.GUEST_MAC;
    private static final byte[] GUEST_IP = {10, 97, 0, 2};
    private static final byte[] HOST_IP = {10, 97, 0, 1};

    private static String tapName(final String suffix) {
        return "vpb" + ProcessHandle.current().pid() % 10000 + suffix;
    }

    private static boolean pollUntilArpReply(final TestNetGuest guest, final TapBridgePort tap) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        final int[] tokens = new int[64];
        final int[] lengths = new int[64];
        while (System.nanoTime() < deadline) {
            guest.pollUntilIdle(5);
            tap.poll();
            guest.pollUntilIdle(5);
            final int n = guest.rxQueue().reap(tokens, lengths, 64);
            for (int i = 0; i < n; i++) {
                final byte[] buffer = guest.receiveBuffer(tokens[i], lengths[i]);
                final ByteBuffer frame = ByteBuffer.wrap(buffer, VirtioNetHeader.BYTES, lengths[i] - VirtioNetHeader.BYTES).slice();
                if (frame.remaining() >= 42 && frame.getShort(12) == 0x0806 && frame.getShort(20) == 2) {
                    return true;
                }
            }
            guest.postReceiveBuffers(0, n, 2048);
        }
        return false;
    }

    @Test
    void aGuestOnTheBridgeTalksToTheKernelBehindTheTap() {
        Requirements.requireTapAndNetns();
        final String name = tapName("a");
        final Bridge bridge = Bridge.create("tap-test", Counters.inMemory(256));
        final ByteArrayOutputStream logged = new ByteArrayOutputStream();
        try (Netns netns = Netns.create("bridgetap");
             GuestBridgePort guestPort = new GuestBridgePort("vm", bridge, 1500, GUEST_MAC, 64);
             TestNetGuest guest = new TestNetGuest(0, guestPort, 64);
             TapBridgePort tap = new TapBridgePort(name, false, bridge, 1500, Counters.inMemory(16), null,
                     ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8)))) {
            netns.adopt(name);
            netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + name + ".disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.97.0.1/24", "dev", name);
            netns.exec("ip", "link", "set", name, "up");
            guest.postReceiveBuffers(0, 32, 2048);

            guest.transmit(null, arpRequest(), false);
            assertTrue(pollUntilArpReply(guest, tap), "the kernel's ARP reply came back to the guest through the bridge");
            assertTrue(bridge.counters(tap.index()).outPackets() >= 1);
            assertTrue(bridge.counters(tap.index()).inPackets() >= 1);

            netns.exec("ip", "link", "set", name, "down");
            guest.transmit(null, arpRequest(), false);
            guest.pollUntilIdle(5);
            assertTrue(logged.toString(StandardCharsets.UTF_8).contains("link down"), logged.toString(StandardCharsets.UTF_8));
            assertEquals(1, tap.droppedWhileDown(), "the frame toward the down link was dropped and counted");
            netns.exec("ip", "link", "set", name, "up");
            guest.transmit(null, arpRequest(), false);
            assertTrue(pollUntilArpReply(guest, tap), "forwarding resumed once the link was up");
            assertTrue(logged.toString(StandardCharsets.UTF_8).contains("link up"), logged.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void reattachesWhenADeletedTapComesBack() throws Exception {
        Requirements.requireTapAndNetns();
        final String name = tapName("p");
        Commands.run("ip", "tuntap", "add", "dev", name, "mode", "tap", "vnet_hdr");
        final Bridge bridge = Bridge.create("tap-back", Counters.inMemory(256));
        final ByteArrayOutputStream logged = new ByteArrayOutputStream();
        try (GuestBridgePort guestPort = new GuestBridgePort("vm", bridge, 1500, GUEST_MAC, 64);
             TestNetGuest guest = new TestNetGuest(0, guestPort, 64);
             TapBridgePort tap = new TapBridgePort(name, false, bridge, 1500, Counters.inMemory(16), null,
                     ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8)))) {
            Commands.run("ip", "link", "del", name);
            guest.transmit(null, arpRequest(), false);
            guest.pollUntilIdle(5);
            assertFalse(tap.isUp(), "the deleted TAP was noticed on the next write");
            assertTrue(logged.toString(StandardCharsets.UTF_8).contains("gone"), logged.toString(StandardCharsets.UTF_8));
            Commands.run("ip", "tuntap", "add", "dev", name, "mode", "tap", "vnet_hdr");
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!tap.isUp() && System.nanoTime() < deadline) {
                tap.poll();
                Thread.sleep(100);
            }
            assertTrue(tap.isUp(), "re-attached once an interface of that name existed again");
            assertTrue(logged.toString(StandardCharsets.UTF_8).contains("back"));
        } finally {
            Commands.tryRun("ip", "link", "del", name);
        }
    }

    private static byte[] arpRequest() {
        final ByteBuffer frame = ByteBuffer.allocate(42);
        frame.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(GUEST_MAC).putShort((short) 0x0806);
        frame.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        frame.put(GUEST_MAC).put(GUEST_IP).put(new byte[6]).put(HOST_IP);
        return Arrays.copyOf(frame.array(), 42);
    }
}

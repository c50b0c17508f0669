package io.vioplane.tap.device;

import io.vioplane.platform.sys.Epoll;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoVecArray;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A {@link TapDevice} against the kernel's TAP driver inside a network namespace the test creates: frames cross
 * both ways with virtio-net headers; multiqueue adds queues; offloads are accepted.
 */
@Tag("netns")
class TapDeviceTest {
    private static final byte[] OUR_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x21};

    private static String tapName(final String suffix) {
        return "vpd" + ProcessHandle.current().pid() % 10000 + suffix;
    }

    @Test
    void answersArpThroughGatherWriteAndRead() throws Exception {
        Requirements.requireTapAndNetns();
        final String name = tapName("a");
        try (TapDevice tap = TapDevice.open(name, false); Netns netns = Netns.create("tapdev");
             Arena arena = Arena.ofConfined(); Epoll epoll = new Epoll(1)) {
            tap.setOffloads(TapDevice.TUN_F_CSUM | TapDevice.TUN_F_TSO4 | TapDevice.TUN_F_TSO6);
            netns.adopt(name);
            netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + name + ".disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.98.0.1/24", "dev", name);
            netns.exec("ip", "link", "set", name, "up");

            final MemorySegment header = arena.allocate(TapDevice.VNET_HEADER_BYTES);
            final MemorySegment frame = arena.allocate(42);
            MemorySegment.copy(arpRequest(), 0, frame, ValueLayout.JAVA_BYTE, 0, 42);
            final IoVecArray iov = new IoVecArray(arena, 2).set(0, header).set(1, frame);
            assertEquals(54, tap.write(iov, 2), "header and frame gathered into one TAP frame");

            epoll.add(tap.fd(), Epoll.EPOLLIN, 0);
            final MemorySegment in = arena.allocate(2048);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            boolean replied = false;
            while (!replied && System.nanoTime() < deadline) {
                epoll.await(200);
                long n;
                while (!replied && (n = tap.read(in, 2048)) != FileIo.WOULD_BLOCK) {
                    final ByteBuffer bytes = ByteBuffer.wrap(in.asSlice(12, n - 12).toArray(ValueLayout.JAVA_BYTE));
                    replied = n >= 54 && bytes.getShort(12) == 0x0806 && bytes.getShort(20) == 2;
                }
            }
            assertTrue(replied, "the namespace's kernel answered our ARP request");
        }
    }

    @Test
    void multiQueueOpensSeveralQueuesOfOneInterface() {
        Requirements.requireTapAndNetns();
        final String name = tapName("m");
        try (TapDevice first = TapDevice.open(name, true); TapDevice second = TapDevice.open(name, true)) {
            assertNotEquals(first.fd(), second.fd());
            assertTrue(TapDevice.exists(name));
        }
        assertFalse(TapDevice.exists(name), "a non-persistent TAP goes away with its last queue");
    }

    @Test
    void refusesANameThatIsNotAnInterfaceName() {
        assertThrows(IllegalArgumentException.class, () -> TapDevice.open("a-name-longer-than-fifteen", false));
        assertThrows(IllegalArgumentException.class, () -> TapDevice.open("bad/name", false));
    }

    private static byte[] arpRequest() {
        final ByteBuffer frame = ByteBuffer.allocate(42);
        frame.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(OUR_MAC).putShort((short) 0x0806);
        frame.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        frame.put(OUR_MAC).put(new byte[] {10, 98, 0, 2}).put(new byte[6]).put(new byte[] {10, 98, 0, 1});
        return frame.array();
    }
}

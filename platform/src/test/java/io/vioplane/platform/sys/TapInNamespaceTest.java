package io.vioplane.platform.sys;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The platform calls against the real kernel's TAP driver: open /dev/net/tun, TUNSETIFF with
 * IFF_VNET_HDR, TUNSETVNETHDRSZ, move the TAP into a namespace this test creates, and carry one frame each
 * way (an ARP request in, the kernel's ARP reply out).
 */
@Tag("netns")
class TapInNamespaceTest {
    private static final long TUNSETIFF = 0x400454CAL;
    private static final long TUNSETVNETHDRSZ = 0x400454D8L;
    private static final short IFF_TAP = 0x0002;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    private static final int VNET_HDR_BYTES = 12;
    private static final byte[] OUR_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    private static final byte[] OUR_IP = {10, 99, 0, 2};
    private static final byte[] KERNEL_IP = {10, 99, 0, 1};

    @Test
    void carriesAFrameEachWayWithVnetHeaders() throws Exception {
        Requirements.requireTapAndNetns();
        final String tapName = "vpt" + ProcessHandle.current().pid() % 100000;
        final int tun = FileIo.open("/dev/net/tun", FileIo.O_RDWR | FileIo.O_NONBLOCK);
        try (Arena arena = Arena.ofConfined(); Netns netns = Netns.create("tap"); Epoll epoll = new Epoll(1)) {
            final MemorySegment ifreq = arena.allocate(40);
            ifreq.setString(0, tapName, StandardCharsets.US_ASCII);
            ifreq.set(ValueLayout.JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
            Ioctl.invoke(tun, TUNSETIFF, ifreq, "TUNSETIFF");
            final MemorySegment headerSize = arena.allocateFrom(ValueLayout.JAVA_INT, VNET_HDR_BYTES);
            Ioctl.invoke(tun, TUNSETVNETHDRSZ, headerSize, "TUNSETVNETHDRSZ");

            netns.adopt(tapName);
            netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + tapName + ".disable_ipv6=1");
            netns.exec("ip", "addr", "add", "10.99.0.1/24", "dev", tapName);
            netns.exec("ip", "link", "set", tapName, "up");

            final MemorySegment request = arena.allocate(VNET_HDR_BYTES + 42);
            MemorySegment.copy(arpRequest(), 0, request, ValueLayout.JAVA_BYTE, VNET_HDR_BYTES, 42);
            assertEquals(request.byteSize(), FileIo.write(tun, request), "the TAP takes the whole frame");

            epoll.add(tun, Epoll.EPOLLIN, tun);
            final MemorySegment frame = arena.allocate(VNET_HDR_BYTES + 2048);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            boolean replied = false;
            while (!replied && System.nanoTime() < deadline) {
                epoll.await(200);
                long n;
                while (!replied && (n = FileIo.read(tun, frame)) != FileIo.WOULD_BLOCK) {
                    replied = isArpReplyFromKernel(frame, n);
                }
            }
            assertTrue(replied, "the kernel in the namespace answered our ARP request through the TAP");

            final String stats = netns.exec("ip", "-s", "link", "show", tapName);
            assertTrue(rxPackets(stats) >= 1, "the kernel counted the frame we wrote:\n" + stats);
        } finally {
            FileIo.close(tun);
        }
    }

    private static byte[] arpRequest() {
        final ByteBuffer frame = ByteBuffer.allocate(42);
        frame.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(OUR_MAC).putShort((short) 0x0806);
        frame.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        frame.put(OUR_MAC).put(OUR_IP).put(new byte[6]).put(KERNEL_IP);
        return frame.array();
    }

    private static boolean isArpReplyFromKernel(final MemorySegment frame, final long length) {
        if (length < VNET_HDR_BYTES + 42) {
            return false;
        }
        final ByteBuffer bytes = ByteBuffer.wrap(frame.asSlice(VNET_HDR_BYTES, length - VNET_HDR_BYTES).toArray(ValueLayout.JAVA_BYTE));
        final byte[] destination = new byte[6];
        bytes.get(0, destination);
        return java.util.Arrays.equals(destination, OUR_MAC) && bytes.getShort(12) == 0x0806 && bytes.getShort(20) == 2
                && bytes.get(28) == KERNEL_IP[0] && bytes.get(31) == KERNEL_IP[3];
    }

    private static long rxPackets(final String ipStats) {
        final Matcher matcher = Pattern.compile("RX:.*\\n\\s*(\\d+)\\s+(\\d+)").matcher(ipStats);
        return matcher.find() ? Long.parseLong(matcher.group(2)) : -1;
    }
}

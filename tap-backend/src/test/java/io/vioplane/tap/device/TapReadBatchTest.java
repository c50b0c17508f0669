package io.vioplane.tap.device;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.IoUring;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Batched TAP reads against the kernel: a TAP in a network namespace the test creates, UDP datagrams the kernel
 * sends out of it (to a static neighbour) read through {@link TapReadBatch}; they arrive whole and in the order
 * they were sent, a jumbo frame included, and a TAP deleted under the reads is reported rather than hung on.
 */
@Tag("netns")
class TapReadBatchTest {
    private static final int UDP_PORT = 40915;
    private static final int IPV4_ETHERTYPE = 0x0800;
    private static final int FRAME_OFFSET = TapDevice.VNET_HEADER_BYTES;
    private static final int UDP_PAYLOAD_OFFSET = FRAME_OFFSET + 14 + 20 + 8;

    /** What the receiver saw: each datagram's sequence number and frame length, and each failure's errno. */
    private static final class Seen implements TapReadBatch.Receiver {
        final List<Integer> sequence = new ArrayList<>();
        final List<Integer> frameBytes = new ArrayList<>();
        final List<Integer> failures = new ArrayList<>();
        final List<Boolean> payloadIntact = new ArrayList<>();

        @Override
        public void received(final MemorySegment buffer, final int lengthBytes) {
            if (lengthBytes < UDP_PAYLOAD_OFFSET + 4
                    || Short.toUnsignedInt(buffer.get(JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN),
                    FRAME_OFFSET + 12)) != IPV4_ETHERTYPE
                    || buffer.get(JAVA_BYTE, FRAME_OFFSET + 14 + 9) != 17
                    || Short.toUnsignedInt(buffer.get(JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN),
                    FRAME_OFFSET + 14 + 20 + 2)) != UDP_PORT) {
                return;
            }
            final int number = buffer.get(JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), UDP_PAYLOAD_OFFSET);
            sequence.add(number);
            frameBytes.add(lengthBytes - FRAME_OFFSET);
            boolean intact = true;
            for (int i = UDP_PAYLOAD_OFFSET + 4; i < lengthBytes; i++) {
                intact &= buffer.get(JAVA_BYTE, i) == (byte) (number + i - UDP_PAYLOAD_OFFSET);
            }
            payloadIntact.add(intact);
        }

        @Override
        public void readFailed(final String call, final int errno) {
            failures.add(errno);
        }
    }

    private static String tapName(final String suffix) {
        return "vpr" + ProcessHandle.current().pid() % 10000 + suffix;
    }

    private static ErrorLog quietLog() {
        return ErrorLog.printingTo(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    /** Brings the TAP up in {@code netns} with 10.98.0.1/24, MTU 9000 and a static neighbour 10.98.0.2. */
    private static void configure(final Netns netns, final String name) {
        netns.adopt(name);
        netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + name + ".disable_ipv6=1");
        netns.exec("ip", "link", "set", name, "mtu", "9000");
        netns.exec("ip", "addr", "add", "10.98.0.1/24", "dev", name);
        netns.exec("ip", "link", "set", name, "up");
        netns.exec("ip", "neigh", "replace", "10.98.0.2", "lladdr", "02:00:00:00:98:02", "dev", name, "nud",
                "permanent");
    }

    /**
     * Sends datagram {@code n} (n = 0..count-1) to 10.98.0.2:UDP_PORT from inside the namespace: a 4-byte
     * big-endian sequence number then bytes {@code (n + i) & 0xFF}, {@code sizeOf(n)} bytes of payload in all.
     */
    private static void sendDatagrams(final Netns netns, final int count, final String sizeOf) {
        final String script = String.join("\n",
                "import socket, struct",
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                "for n in range(" + count + "):",
                "    size = " + sizeOf,
                "    body = struct.pack('>I', n) + bytes((n + i) & 0xFF for i in range(4, size))",
                "    s.sendto(body, ('10.98.0.2', " + UDP_PORT + "))");
        netns.exec("python3", "-c", script);
    }

    private static void pollUntil(final TapReadBatch batch, final Seen seen, final int datagrams) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (seen.sequence.size() < datagrams && seen.failures.isEmpty() && System.nanoTime() < deadline) {
            if (batch.poll(32) == 0) {
                Thread.sleep(1);
            }
        }
    }

    @Test
    void framesArriveInTheOrderTheKernelSentThem() throws Exception {
        readsInOrder(true);
    }

    @Test
    void framesArriveInOrderThroughPlainReadsToo() throws Exception {
        readsInOrder(false);
    }

    private static void readsInOrder(final boolean tryMultishot) throws Exception {
        Requirements.requireTapAndNetns();
        final String name = tapName(tryMultishot ? "o" : "r");
        final Seen seen = new Seen();
        final int datagrams = 300;
        try (Netns netns = Netns.create("tapread");
             TapDevice tap = TapDevice.open(name, false);
             TapReadBatch batch = new TapReadBatch(quietLog(), seen, true, tryMultishot)) {
            configure(netns, name);
            batch.attach(tap);
            sendDatagrams(netns, datagrams, "64 + n % 200");
            pollUntil(batch, seen, datagrams);
            assertEquals(List.of(), seen.failures);
            final List<Integer> expected = new ArrayList<>();
            for (int n = 0; n < datagrams; n++) {
                expected.add(n);
            }
            assertEquals(expected, seen.sequence, "datagrams come out of the batch in the order they were sent");
            assertFalse(seen.payloadIntact.contains(false), "every payload arrived intact");
            System.err.println("NOTE: TapReadBatch read " + (!batch.batching() ? "one frame per read(2)"
                    : batch.multishot() ? "with a multishot read" : "with " + TapReadBatch.READS + " reads in flight"));
        }
    }

    @Test
    void aJumboFrameCrossesTheBatchWhole() throws Exception {
        Requirements.requireTapAndNetns();
        final String name = tapName("j");
        final Seen seen = new Seen();
        try (Netns netns = Netns.create("tapjumbo");
             TapDevice tap = TapDevice.open(name, false);
             TapReadBatch batch = new TapReadBatch(quietLog(), seen)) {
            configure(netns, name);
            batch.attach(tap);
            sendDatagrams(netns, 3, "8000 if n == 1 else 100");
            pollUntil(batch, seen, 3);
            assertEquals(List.of(), seen.failures);
            assertEquals(List.of(0, 1, 2), seen.sequence);
            assertEquals(List.of(14 + 20 + 8 + 100, 14 + 20 + 8 + 8000, 14 + 20 + 8 + 100), seen.frameBytes,
                    "the 8042-byte frame came out of one read, not truncated at 1500");
            assertEquals(List.of(true, true, true), seen.payloadIntact);
        }
    }

    @Test
    void aTapDeletedUnderTheReadsIsReported() throws Exception {
        Requirements.requireTapAndNetns();
        final String name = tapName("g");
        final Seen seen = new Seen();
        try (Netns netns = Netns.create("tapgone");
             TapDevice tap = TapDevice.open(name, false);
             TapReadBatch batch = new TapReadBatch(quietLog(), seen)) {
            configure(netns, name);
            batch.attach(tap);
            netns.exec("ip", "link", "del", name);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (seen.failures.isEmpty() && System.nanoTime() < deadline) {
                batch.poll(32);
                Thread.sleep(1);
            }
            if (batch.batching()) {
                assertFalse(seen.failures.isEmpty(), "the reads in flight completed with an error");
                assertEquals(Errno.EBADFD, seen.failures.get(0));
            }
            batch.detach();
        }
    }

    /**
     * The kernel behaviour {@link TapReadBatch} rests on: a read of a TAP through io_uring with no frame waiting is
     * armed on the TAP's wait queue (it neither fails nor completes empty) when the descriptor is blocking, and
     * completes when a frame arrives. For an O_NONBLOCK descriptor the outcome differs between kernels, so it is
     * only reported (on 6.18 the read was armed as well).
     */
    @Test
    void ioUringArmsAReadOfABlockingTapUntilAFrameArrives() throws Exception {
        Requirements.requireTapAndNetns();
        final String name = tapName("n");
        try (Netns netns = Netns.create("tapnb");
             TapDevice tap = TapDevice.open(name, false);
             Arena arena = Arena.ofConfined()) {
            configure(netns, name);
            final IoUring ring;
            try {
                ring = IoUring.openForPolling(4);
            } catch (RuntimeException e) {
                System.err.println("NOTE: io_uring unavailable: " + e.getMessage());
                return;
            }
            try (ring) {
                final MemorySegment buffer = arena.allocate(TapReadBatch.BUFFER_BYTES);
                final long[] userData = new long[4];
                final int[] results = new int[4];
                ring.registerFile(tap.fd());
                ring.prepareRead(buffer, TapReadBatch.BUFFER_BYTES, 7);
                ring.submit();
                Thread.sleep(50);
                ring.submitAndRunTaskWork();
                final int nonBlocking = ring.reap(userData, results, 4);
                System.err.println("NOTE: io_uring read of an idle O_NONBLOCK TAP: " + (nonBlocking == 0
                        ? "armed" : "completed with " + results[0]) + " (" + System.getProperty("os.version") + ")");
                ring.cancelAll();

                FileIo.setNonBlocking(tap.fd(), false);
                ring.prepareRead(buffer, TapReadBatch.BUFFER_BYTES, 8);
                ring.submit();
                Thread.sleep(50);
                ring.submitAndRunTaskWork();
                assertEquals(0, ring.completionsReady(), "on a blocking descriptor the read waits, armed");
                sendDatagrams(netns, 1, "100");
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (ring.completionsReady() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                    ring.submitAndRunTaskWork();
                }
                assertEquals(1, ring.reap(userData, results, 4), "the armed read completed with the frame");
                assertEquals(8, userData[0]);
                assertTrue(results[0] > UDP_PAYLOAD_OFFSET, "a frame was read: " + results[0]);
                assertEquals(0, ring.outstanding());
            }
        }
    }
}

package io.vioplane.tap.device;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.virtionet.NetHeaderValues;
import io.vioplane.virtionet.port.BufferTxFrame;
import io.vioplane.virtionet.port.TxFrame;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Batched TAP writes against the kernel: a TAP in a network namespace the test creates, frames written through
 * {@link TapWriteBatch} with in-place, copied and oversized frames mixed, counted and (with tshark) seen in order;
 * a link that is down fails every queued frame with EIO.
 */
@Tag("netns")
class TapWriteBatchTest {
    private static final int FRAMES = 150;

    /** A frame in a buffer that stays put until flush, as a guest's transmit chain does. */
    private static final class StableFrame implements TxFrame {
        private final BufferTxFrame view = new BufferTxFrame();

        StableFrame wrap(final MemorySegment source, final long offset, final int lengthBytes) {
            view.wrap(source, offset, lengthBytes).headerHolder().clear();
            return this;
        }

        @Override
        public boolean stableUntilFlush() {
            return true;
        }

        @Override
        public NetHeaderValues header() {
            return view.header();
        }

        @Override
        public int lengthBytes() {
            return view.lengthBytes();
        }

        @Override
        public long copyTo(final long frameOffset, final MemorySegment destination, final long destinationOffset,
                           final long lengthBytes) {
            return view.copyTo(frameOffset, destination, destinationOffset, lengthBytes);
        }

        @Override
        public int segmentCount() {
            return view.segmentCount();
        }

        @Override
        public MemorySegment segmentBase(final int index) {
            return view.segmentBase(index);
        }

        @Override
        public long segmentOffset(final int index) {
            return view.segmentOffset(index);
        }

        @Override
        public long segmentLength(final int index) {
            return view.segmentLength(index);
        }
    }

    private static String tapName(final String suffix) {
        return "vpw" + ProcessHandle.current().pid() % 10000 + suffix;
    }

    /** Frame {@code i}: broadcast, EtherType 0x88B5 (local experimental), {@code 60 + i} bytes long. */
    private static int fill(final MemorySegment frames, final int i) {
        final long at = (long) i * 4096;
        final int length = 60 + i + (i % 50 == 49 ? 2500 : 0);
        for (int b = 0; b < 6; b++) {
            frames.set(JAVA_BYTE, at + b, (byte) 0xFF);
        }
        frames.set(JAVA_BYTE, at + 6, (byte) 0x02);
        frames.set(JAVA_BYTE, at + 12, (byte) 0x88);
        frames.set(JAVA_BYTE, at + 13, (byte) 0xB5);
        return length;
    }

    private static long rxPackets(final Netns netns, final String tap) {
        return Long.parseLong(netns.exec("cat", "/sys/class/net/" + tap + "/statistics/rx_packets").trim());
    }

    @Test
    void writesEveryFrameInOrderWithFewSubmissions(@TempDir final Path directory) throws Exception {
        Requirements.requireTapAndNetns();
        final String name = tapName("o");
        final List<Integer> failures = new ArrayList<>();
        final boolean tshark = Requirements.onPath("tshark");
        Process capture = null;
        try (Netns netns = Netns.create("tapwrite");
             Arena arena = Arena.ofConfined();
             TapDevice tap = TapDevice.open(name, false);
             TapWriteBatch batch = new TapWriteBatch(ErrorLog.printingTo(new PrintStream(new ByteArrayOutputStream(), true,
                     StandardCharsets.UTF_8)), (call, errno) -> failures.add(errno))) {
            netns.adopt(name);
            netns.exec("sysctl", "-qw", "net.ipv6.conf." + name + ".disable_ipv6=1");
            netns.exec("ip", "link", "set", name, "up");
            final Path pcap = directory.resolve("written.pcap");
            final Path log = directory.resolve("tshark.log");
            batch.attach(tap);
            int probesSeen = 0;
            if (tshark) {
                capture = new ProcessBuilder(netns.commandLine("tshark", "-l", "-P", "-i", name, "-f",
                        "ether proto 0x88b5 or ether proto 0x88b6", "-w", pcap.toString())).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                awaitCapturing(log);
                probesSeen = awaitProbeCaptured(batch, arena, log);
            }
            final long before = rxPackets(netns, name);
            final MemorySegment frames = arena.allocate(4096L * FRAMES);
            final StableFrame stable = new StableFrame();
            final BufferTxFrame reused = new BufferTxFrame();
            final MemorySegment large = arena.allocate(4096);
            for (int i = 0; i < FRAMES; i++) {
                final int length = fill(frames, i);
                if (length > 2048) {
                    MemorySegment.copy(frames, (long) i * 4096, large, 0, 4096);
                    reused.wrap(large, 0, length).headerHolder().clear();
                    assertTrue(batch.write(reused), "an oversized copied frame is written at once");
                } else if (i % 2 == 0) {
                    assertTrue(batch.write(stable.wrap(frames, (long) i * 4096, length)));
                } else {
                    reused.wrap(frames, (long) i * 4096, length).headerHolder().clear();
                    assertTrue(batch.write(reused));
                }
            }
            batch.flush();
            assertEquals(List.of(), failures);
            assertEquals(FRAMES, rxPackets(netns, name) - before, "the kernel received every frame");
            if (batch.batching()) {
                assertTrue(batch.batches() <= 8, "150 frames took " + batch.batches() + " submissions");
            } else {
                System.err.println("NOTE: io_uring unavailable; TapWriteBatch wrote one frame per writev");
            }
            if (capture != null) {
                assertTrue(awaitPacketLines(log, probesSeen + FRAMES), "tshark saw all frames:\n" + Files.readString(log));
                capture.destroy();
                assertTrue(capture.waitFor(20, TimeUnit.SECONDS), "tshark stopped");
                final String lengths = Commands.run("tshark", "-r", pcap.toString(), "-Y", "eth.type == 0x88b5", "-T",
                        "fields", "-e", "frame.len");
                final List<Integer> seen = lengths.lines().map(String::trim).filter(l -> l.matches("\\d+"))
                        .map(Integer::parseInt).toList();
                final List<Integer> expected = new ArrayList<>();
                for (int i = 0; i < FRAMES; i++) {
                    expected.add(60 + i + (i % 50 == 49 ? 2500 : 0));
                }
                assertEquals(expected, seen, "frames reach the kernel in the order they were queued");
            }
        } finally {
            if (capture != null && capture.isAlive()) {
                capture.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void aLinkThatIsDownFailsEachQueuedFrameWithEio() {
        Requirements.requireTapAndNetns();
        final String name = tapName("d");
        final List<Integer> failures = new ArrayList<>();
        try (Netns netns = Netns.create("tapdown");
             Arena arena = Arena.ofConfined();
             TapDevice tap = TapDevice.open(name, false);
             TapWriteBatch batch = new TapWriteBatch(ErrorLog.printingTo(new PrintStream(new ByteArrayOutputStream(), true,
                     StandardCharsets.UTF_8)), (call, errno) -> failures.add(errno))) {
            netns.adopt(name);
            batch.attach(tap);
            final MemorySegment frames = arena.allocate(4096L * 3);
            final StableFrame stable = new StableFrame();
            for (int i = 0; i < 3; i++) {
                final boolean accepted = batch.write(stable.wrap(frames, (long) i * 4096, fill(frames, i)));
                assertEquals(batch.batching(), accepted, "queued when batching, refused at once when not");
            }
            assertEquals(0, batch.flush());
            assertEquals(List.of(Errno.EIO, Errno.EIO, Errno.EIO), failures);
        }
    }

    /**
     * tshark says "Capturing on" a moment before its socket sees frames: writes probe frames (EtherType 0x88B6) until
     * one is captured.
     *
     * @return packets captured so far (the probes seen)
     */
    private static int awaitProbeCaptured(final TapWriteBatch batch, final Arena arena, final Path log) throws Exception {
        final MemorySegment probe = arena.allocate(64);
        fill(probe, 0);
        probe.set(JAVA_BYTE, 13, (byte) 0xB6);
        final BufferTxFrame frame = new BufferTxFrame();
        for (int attempt = 0; attempt < 100; attempt++) {
            frame.wrap(probe, 0, 60).headerHolder().clear();
            batch.write(frame);
            batch.flush();
            if (awaitPacketLinesFor(log, 1, 200)) {
                Thread.sleep(200);
                return packetLines(log);
            }
        }
        fail("tshark captured none of 100 probe frames:\n" + Files.readString(log));
        return 0;
    }

    private static boolean awaitPacketLines(final Path log, final int count) throws Exception {
        return awaitPacketLinesFor(log, count, 20_000);
    }

    private static boolean awaitPacketLinesFor(final Path log, final int count, final long timeoutMs) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        do {
            if (packetLines(log) >= count) {
                return true;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return false;
    }

    /** @return the packet summary lines tshark printed (-P): lines starting with the packet number */
    private static int packetLines(final Path log) throws Exception {
        return (int) Files.readString(log).lines().filter(line -> line.matches("\\s*\\d+\\s+\\d+\\.\\d+.*")).count();
    }

    private static void awaitCapturing(final Path log) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains("Capturing on")) {
                return;
            }
            Thread.sleep(50);
        }
        fail("tshark did not start capturing");
    }
}

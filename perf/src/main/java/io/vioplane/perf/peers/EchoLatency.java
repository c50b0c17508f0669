package io.vioplane.perf.peers;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.perf.ResultTable;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.CpuAffinity;
import io.vioplane.vhostuser.backend.VhostUserBackend;
import io.vioplane.vhostuser.frontend.NetFrontEnd;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.vhostuser.transport.EventLoops;
import io.vioplane.vhostuser.transport.VhostUserServer;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.EchoPort;
import io.vioplane.vring.VirtioFeature;
import org.HdrHistogram.Histogram;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Round-trip latency of the echo path as a guest would see it: an in-process virtio-net front-end
 * ({@link NetFrontEnd}, pinned to CPU 1) sends one 64-byte frame over vhost-user rings to vioplane's back-end
 * (data plane pinned to CPU 0), the echo port sends it back, and the front-end spins until it arrives. Recorded
 * in an HdrHistogram (1 ns to 1 s, 3 significant digits) after a warm-up, in two data-plane modes: parked (the
 * data plane sleeps on its kick eventfd between frames, so each frame costs a kick and a wake-up) and busy-poll.
 */
public final class EchoLatency {
    /** One mode's histogram of round trips, nanoseconds. */
    public record Result(String mode, Histogram roundTripsNs) {
    }

    private EchoLatency() {
    }

    /**
     * @param busyPoll  never let the data plane sleep
     * @param warmUp    round trips before recording
     * @param samples   round trips recorded
     */
    public static Result run(final Path workDirectory, final boolean busyPoll, final int warmUp, final int samples)
            throws InterruptedException {
        final Path socket = workDirectory.resolve("latency-" + (busyPoll ? "busy" : "parked") + ".sock");
        final ErrorLog quiet = ErrorLog.printingTo(line -> { });
        final DataPlane dataPlane = new DataPlane("latency-dataplane", busyPoll, 0, Throwable::printStackTrace);
        final IoEventLoopGroup controlPlane = EventLoops.newControlPlane("latency-control");
        final byte[] mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        final long features = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ);
        final int[] cpus = CpuAffinity.allowedCpus();
        try (EchoPort echo = new EchoPort(1, 256)) {
            final VirtioNetDevice device = new VirtioNetDevice("latency", new VirtioNetConfig(mac, 1, 1500), features, echo,
                    Counters.inMemory(64));
            final NetVhostUserDevice vhostDevice = new NetVhostUserDevice(device);
            try (VhostUserServer server = VhostUserServer.builder(socket, () -> new VhostUserBackend(vhostDevice, dataPlane,
                    quiet)).eventLoopGroup(controlPlane).log(quiet).start();
                 NetFrontEnd frontEnd = new NetFrontEnd(socket, features & ~VirtioFeature.bit(VirtioFeature.RING_PACKED), 256);
                 Arena arena = Arena.ofConfined()) {
                if (cpus.length > 1) {
                    CpuAffinity.restrictCurrentThread(cpus[1]);
                }
                final MemorySegment frame = arena.allocate(64);
                frame.fill((byte) 0x5A);
                final Histogram histogram = new Histogram(1_000_000_000L, 3);
                final int[] got = new int[1];
                final NetFrontEnd.FrameSink sink = (buffer, offset, length) -> got[0]++;
                for (int i = 0; i < warmUp + samples; i++) {
                    got[0] = 0;
                    final long start = System.nanoTime();
                    frontEnd.transmit(frame, 0, 64);
                    while (got[0] == 0) {
                        frontEnd.receive(sink);
                    }
                    final long roundTrip = System.nanoTime() - start;
                    frontEnd.reapTransmitted();
                    if (i >= warmUp) {
                        histogram.recordValue(Math.min(roundTrip, 1_000_000_000L));
                    }
                }
                return new Result(busyPoll ? "busy-poll" : "parked (kick eventfd)", histogram);
            } finally {
                if (cpus.length > 1) {
                    CpuAffinity.restrictCurrentThread(cpus);
                }
            }
        } finally {
            EventLoops.shutdown(controlPlane);
            dataPlane.close();
        }
    }

    /** @return the results as a table of percentiles in microseconds */
    public static String format(final java.util.List<Result> results) {
        return table(results).text();
    }

    /** @return the results as a report table of percentiles, each with its unit */
    public static ResultTable table(final java.util.List<Result> results) {
        final ResultTable table = new ResultTable("latency", "echo round-trip latency (64 B)")
                .note("percentiles of one run's round trips (HdrHistogram); lower is better")
                .column("mode", false).column("samples", true).column("p50", true).column("p90", true)
                .column("p99", true).column("p99.9", true).column("max", true);
        for (Result result : results) {
            final Histogram h = result.roundTripsNs();
            table.row(ResultTable.Cell.text(result.mode()), ResultTable.Cell.number(h.getTotalCount(), ""),
                    ResultTable.Cell.number(h.getValueAtPercentile(50) / 1e3, "us"),
                    ResultTable.Cell.number(h.getValueAtPercentile(90) / 1e3, "us"),
                    ResultTable.Cell.number(h.getValueAtPercentile(99) / 1e3, "us"),
                    ResultTable.Cell.number(h.getValueAtPercentile(99.9) / 1e3, "us"),
                    ResultTable.Cell.number(h.getMaxValue() / 1e3, "us"));
        }
        return table;
    }
}

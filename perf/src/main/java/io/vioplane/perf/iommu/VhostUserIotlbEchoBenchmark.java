package io.vioplane.perf.iommu;

import io.netty.channel.IoEventLoopGroup;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
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
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The vhost-user echo path with the device IOTLB on and off, through the same in-process front-end
 * ({@link NetFrontEnd}) and the same back-end: with {@code iotlb=true} the front-end negotiates
 * VIRTIO_F_ACCESS_PLATFORM and maps its ring and buffer areas with IOTLB UPDATEs up front, so every ring and buffer
 * access of the back-end goes through its device IOTLB (warm; no misses); with {@code false} they are guest-physical.
 * One operation is one 64-byte frame sent and its echo received, in bursts of {@value #BURST} (one kick per burst;
 * the data plane parks between bursts; the front-end yields its CPU while it waits, so that on a machine with few
 * cores the data plane is not starved by it). The difference between the two rows is what the IOTLB costs per
 * frame: the buffer translations (one transmit read, one receive write) plus the rings' accesses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(VhostUserIotlbEchoBenchmark.BURST)
public class VhostUserIotlbEchoBenchmark {
    /** Frames per burst. */
    public static final int BURST = 32;
    /** Bytes per frame. */
    public static final int FRAME_BYTES = 64;
    private static final int QUEUE_SIZE = 256;

    /** Whether ring and buffer addresses are iovas translated by the device IOTLB. */
    @Param({"false", "true"})
    public boolean iotlb;

    private Path directory;
    private DataPlane dataPlane;
    private IoEventLoopGroup controlPlane;
    private EchoPort echo;
    private VhostUserServer server;
    private NetFrontEnd frontEnd;
    private Arena arena;
    private MemorySegment frame;
    private int received;
    private final NetFrontEnd.FrameSink sink = (buffer, offset, length) -> received++;

    /** Starts a back-end with an echo port and connects the front-end, with or without the IOTLB. */
    @Setup
    public void setUp() {
        try {
            directory = Files.createTempDirectory("vioplane-iotlb-echo");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        final ErrorLog quiet = ErrorLog.printingTo(line -> { });
        dataPlane = new DataPlane("iotlb-echo-dataplane", false, Throwable::printStackTrace);
        controlPlane = EventLoops.newControlPlane("iotlb-echo-control");
        echo = new EchoPort(1, QUEUE_SIZE);
        final long features = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ)
                & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        final VirtioNetDevice device = new VirtioNetDevice("iotlb-echo", new VirtioNetConfig(
                new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56}, 1, 1500),
                features | VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM), echo, Counters.inMemory(64));
        final NetVhostUserDevice vhostDevice = new NetVhostUserDevice(device);
        final Path socket = directory.resolve("echo.sock");
        server = VhostUserServer.builder(socket, () -> new VhostUserBackend(vhostDevice, dataPlane, quiet))
                .eventLoopGroup(controlPlane).log(quiet).start();
        frontEnd = new NetFrontEnd(socket, features, QUEUE_SIZE, iotlb);
        if (iotlb != VirtioFeature.has(frontEnd.features(), VirtioFeature.ACCESS_PLATFORM)) {
            throw new IllegalStateException("ACCESS_PLATFORM negotiated: " + !iotlb);
        }
        arena = Arena.ofConfined();
        frame = arena.allocate(FRAME_BYTES);
        frame.fill((byte) 0x5A);
        frame.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x02);
    }

    /** Disconnects and stops everything. */
    @TearDown
    public void tearDown() throws IOException {
        frontEnd.close();
        server.close();
        EventLoops.shutdown(controlPlane);
        dataPlane.close();
        echo.close();
        arena.close();
        Files.deleteIfExists(directory.resolve("echo.sock"));
        Files.deleteIfExists(directory);
    }

    /** @return frames echoed: one burst sent, then every echo received */
    @Benchmark
    public int echoBurst() {
        received = 0;
        for (int i = 0; i < BURST; i++) {
            while (!frontEnd.transmit(frame, 0, FRAME_BYTES)) {
                frontEnd.reapTransmitted();
            }
        }
        while (received < BURST) {
            if (frontEnd.receive(sink) == 0) {
                if (frontEnd.deviceFault() != null) {
                    throw new IllegalStateException(frontEnd.deviceFault());
                }
                Thread.yield();
            }
        }
        frontEnd.reapTransmitted();
        return received;
    }
}

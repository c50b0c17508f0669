package io.vioplane.vhostuser.backend;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.vhostuser.protocol.VhostUserHeader;
import io.vioplane.vhostuser.protocol.VhostUserRequest;
import io.vioplane.vhostuser.testing.TestFrontEnd;
import io.vioplane.vhostuser.transport.EventLoops;
import io.vioplane.vhostuser.transport.VhostUserServer;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.EchoPort;
import io.netty.channel.IoEventLoopGroup;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Replays the request sequences that real QEMU front-ends sent the daemon (recorded with
 * {@code --record-protocol} in the cli module's guest tests: multiqueue with and without memory slots, memory
 * hotplug, back-end restart, live migration) into a fresh back-end over a real socket, with fresh descriptors in
 * place of QEMU's (memfds of each region's size for memory, eventfds for kicks and calls, a socket pair for the
 * back-end channel). Every request that the live daemon accepted must be accepted again, and every reply QEMU
 * waited for must come.
 */
class QemuRecordingReplayTest {
    private static final byte[] MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    private static final Set<Integer> ALWAYS_REPLIED = Set.of(VhostUserRequest.GET_FEATURES,
            VhostUserRequest.GET_PROTOCOL_FEATURES, VhostUserRequest.GET_QUEUE_NUM, VhostUserRequest.GET_VRING_BASE,
            VhostUserRequest.GET_MAX_MEM_SLOTS, VhostUserRequest.GET_STATUS, VhostUserRequest.GET_CONFIG,
            VhostUserRequest.SET_LOG_BASE, VhostUserRequest.GET_INFLIGHT_FD);

    /** One recorded request. */
    record Recorded(int request, int flags, int fds, byte[] payload, boolean accepted, String line) {
    }

    static Stream<Path> recordings() throws IOException, URISyntaxException {
        final Path directory = Path.of(QemuRecordingReplayTest.class.getResource("/qemu-recordings").toURI());
        final List<Path> files = new ArrayList<>();
        try (Stream<Path> listed = Files.list(directory)) {
            listed.filter(path -> path.toString().endsWith(".rec")).sorted().forEach(files::add);
        }
        assertFalse(files.isEmpty(), "recordings exist in " + directory);
        return files.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recordings")
    void replaysWhatQemuSentAndTheDaemonAccepted(final Path recording, @TempDir final Path directory)
            throws IOException {
        final List<List<Recorded>> connections = parse(recording);
        final ByteArrayOutputStream logged = new ByteArrayOutputStream();
        final ErrorLog log = ErrorLog.printingTo(new PrintStream(logged, true, StandardCharsets.UTF_8));
        final DataPlane dataPlane = new DataPlane("replay-dataplane", false, Throwable::printStackTrace);
        final IoEventLoopGroup controlPlane = EventLoops.newControlPlane("replay-control");
        final EchoPort echo = new EchoPort(4, 256);
        final VirtioNetDevice device = new VirtioNetDevice("net[replay]", new VirtioNetConfig(MAC, 4, 1500),
                VirtioNetFeature.all(), echo, Counters.inMemory(256));
        final NetVhostUserDevice vhostDevice = new NetVhostUserDevice(device);
        final Path socket = directory.resolve("replay.sock");
        final VhostUserServer server = VhostUserServer.builder(socket,
                () -> new VhostUserBackend(vhostDevice, dataPlane, log)).eventLoopGroup(controlPlane)
                .log(log).start();
        try {
            for (List<Recorded> connection : connections) {
                replay(socket, connection, logged);
            }
        } finally {
            server.close();
            EventLoops.shutdown(controlPlane);
            dataPlane.close();
            echo.close();
        }
        assertFalse(logged.toString(StandardCharsets.UTF_8).contains("refused"),
                "the replayed back-end refused nothing:\n" + logged.toString(StandardCharsets.UTF_8));
    }

    private static void replay(final Path socket, final List<Recorded> connection, final ByteArrayOutputStream logged) {
        final List<Integer> open = new ArrayList<>();
        boolean replyAck = false;
        try (TestFrontEnd frontEnd = TestFrontEnd.connect(socket)) {
            for (Recorded message : connection) {
                assertTrue(message.accepted(), "the recording holds only what the live daemon accepted: "
                        + message.line());
                final int[] fds = descriptorsFor(message, open);
                frontEnd.send(message.request(), message.flags(), message.payload(), fds);
                for (int fd : fds) {
                    FileIo.closeQuietly(fd);
                }
                if (message.request() == VhostUserRequest.SET_PROTOCOL_FEATURES) {
                    replyAck = ProtocolFeature.has(u64(message.payload()), ProtocolFeature.REPLY_ACK);
                }
                final boolean ackRequested = replyAck && (message.flags() & VhostUserHeader.FLAG_NEED_REPLY) != 0;
                if (ALWAYS_REPLIED.contains(message.request()) || ackRequested) {
                    final TestFrontEnd.Reply reply = frontEnd.readReply();
                    assertEquals(message.request(), reply.request(), "reply to " + message.line());
                    if (reply.fd() >= 0) {
                        FileIo.closeQuietly(reply.fd());
                    }
                    if (ackRequested && !ALWAYS_REPLIED.contains(message.request())) {
                        assertEquals(0, reply.u64(), "the back-end acknowledged " + message.line() + "\n"
                                + logged.toString(StandardCharsets.UTF_8));
                    }
                }
            }
        } finally {
            open.forEach(FileIo::closeQuietly);
        }
    }

    /** Fresh descriptors standing in for the ones QEMU sent with {@code message}; the sender closes its copies. */
    private static int[] descriptorsFor(final Recorded message, final List<Integer> keptOpen) {
        final int[] fds = new int[message.fds()];
        final ByteBuffer payload = ByteBuffer.wrap(message.payload()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < fds.length; i++) {
            fds[i] = switch (message.request()) {
                case VhostUserRequest.SET_MEM_TABLE -> MemFd.create("replay-region",
                        payload.getLong(8 + 32 * i + 8) + payload.getLong(8 + 32 * i + 24));
                case VhostUserRequest.ADD_MEM_REG, VhostUserRequest.REM_MEM_REG -> MemFd.create("replay-region",
                        payload.getLong(8 + 8) + payload.getLong(8 + 24));
                case VhostUserRequest.SET_LOG_BASE, VhostUserRequest.SET_INFLIGHT_FD -> MemFd.create("replay-area",
                        payload.getLong(0) + payload.getLong(8));
                case VhostUserRequest.SET_BACKEND_REQ_FD -> {
                    final int[] pair = UnixSockets.socketPair();
                    keptOpen.add(pair[1]);
                    yield pair[0];
                }
                default -> EventFd.create().fd();
            };
        }
        return fds;
    }

    private static long u64(final byte[] payload) {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /** @return each connection's requests in the order they came, connections in the order they began */
    static List<List<Recorded>> parse(final Path recording) {
        final java.util.Map<String, List<Recorded>> connections = new java.util.LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(recording)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("# connected ")) {
                    connections.put(line.substring("# connected ".length()), new ArrayList<>());
                } else if (!line.isBlank()) {
                    final int space = line.indexOf(' ');
                    connections.get(line.substring(0, space)).add(parseLine(line.substring(space + 1)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ArrayList<>(connections.values());
    }

    private static Recorded parseLine(final String line) {
        final String[] fields = line.split(" ", 5);
        final int request = requestNamed(fields[0]);
        final int flags = Integer.parseInt(fields[1].substring("flags=0x".length()), 16);
        final int fds = Integer.parseInt(fields[2].substring("fds=".length()));
        final byte[] payload = HexFormat.of().parseHex(fields[3].substring("payload=".length()));
        return new Recorded(request, flags, fds, payload, fields[4].equals("-> ok"), line);
    }

    private static int requestNamed(final String name) {
        for (int id = 0; id < 64; id++) {
            if (VhostUserRequest.name(id).equals(name)) {
                return id;
            }
        }
        throw new IllegalArgumentException("unknown request in recording: " + name);
    }
}

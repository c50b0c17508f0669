package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.peers.dpdk.Testpmd;
import io.vioplane.vhostuser.testing.RecordingHandler;
import io.vioplane.vhostuser.testing.RecordingHandler.Received;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * DPDK's virtio-user front-end ({@code dpdk-testpmd --vdev net_virtio_user0,...}), a real peer nobody here wrote,
 * negotiates with our transport and a recording handler: the sequence it sends up to DRIVER_OK must be the one
 * PEERS.md lists, with the flags it lists, in both server and client mode. testpmd cannot forward (there is no
 * data plane behind the handler); it is stopped once the sequence is seen, and its teardown must reach the
 * handler too.
 */
@Tag("dpdk")
class TestpmdPeerTest {
    private static final long SEQUENCE_TIMEOUT_MS = 60_000;
    private static final int DRIVER_OK_STATUS = 0xf;

    @TempDir
    Path directory;

    /** The requests of PEERS.md's sequence for one queue pair (two rings), up to SET_STATUS 0xf. */
    private static List<String> expectedSequence() {
        final List<String> names = new ArrayList<>(List.of("SET_OWNER", "GET_FEATURES", "GET_PROTOCOL_FEATURES",
                "SET_PROTOCOL_FEATURES", "SET_VRING_CALL", "SET_VRING_CALL", "SET_FEATURES", "SET_STATUS",
                "GET_STATUS", "GET_STATUS", "SET_MEM_TABLE"));
        for (int ring = 0; ring < 2; ring++) {
            names.addAll(List.of("SET_VRING_NUM", "SET_VRING_BASE", "SET_VRING_ADDR", "SET_VRING_KICK"));
        }
        names.addAll(List.of("SET_VRING_ENABLE", "SET_VRING_ENABLE", "SET_STATUS"));
        return names;
    }

    @Test
    void virtioUserNegotiatesWithTheServer() throws Exception {
        Requirements.requireCommand("dpdk-testpmd", "DPDK (Debian package dpdk-dev)");
        final Path socket = directory.resolve("vu.sock");
        final List<String> log = new CopyOnWriteArrayList<>();
        final AtomicReference<RecordingHandler> handler = new AtomicReference<>();
        try (VhostUserServer server = VhostUserServer.builder(socket, () -> {
            final RecordingHandler fresh = new RecordingHandler();
            handler.set(fresh);
            return fresh;
        }).log(ErrorLog.printingTo(log::add)).start()) {
            final Testpmd testpmd = Testpmd.builder().name("vusrv")
                    .vdev("net_virtio_user0,path=" + socket + ",queues=1,queue_size=256").build();
            try {
                testpmd.start();
                awaitDriverOk(handler, testpmd);
            } finally {
                testpmd.close();
            }
            assertTrue(RecordingHandler.await(() -> handler.get().disconnects() == 1, SEQUENCE_TIMEOUT_MS),
                    "testpmd's exit must end the connection: " + log);
            checkSequence(handler.get(), "server");
            assertEquals(1, handler.get().connects());
            assertNull(server.activeConnection());
        }
        System.out.println("server-mode log: " + String.join("\n  ", log));
    }

    @Test
    void clientConnectsToVirtioUserServer() throws Exception {
        Requirements.requireCommand("dpdk-testpmd", "DPDK (Debian package dpdk-dev)");
        final Path socket = directory.resolve("vu.sock");
        final List<String> log = new CopyOnWriteArrayList<>();
        final AtomicReference<RecordingHandler> handler = new AtomicReference<>();
        final Testpmd testpmd = Testpmd.builder().name("vucli")
                .vdev("net_virtio_user0,path=" + socket + ",server=1,queues=1,queue_size=256").build();
        try {
            testpmd.start();
            try (VhostUserClient client = VhostUserClient.builder(socket, () -> {
                final RecordingHandler fresh = new RecordingHandler();
                handler.set(fresh);
                return fresh;
            }).initialBackoffMs(50).maxBackoffMs(500).log(ErrorLog.printingTo(log::add)).start()) {
                awaitDriverOk(handler, testpmd);
                testpmd.close();
                assertTrue(RecordingHandler.await(() -> handler.get().disconnects() >= 1, SEQUENCE_TIMEOUT_MS),
                        "testpmd's exit must end the connection: " + log);
                checkSequence(handler.get(), "client");
                assertEquals(1, client.connections(), "one connection to testpmd's socket");
            }
        } finally {
            testpmd.close();
        }
        System.out.println("client-mode log: " + String.join("\n  ", log));
    }

    private static void awaitDriverOk(final AtomicReference<RecordingHandler> handler, final Testpmd testpmd) {
        final boolean driverOk = RecordingHandler.await(() -> handler.get() != null && handler.get().received().stream()
                .anyMatch(r -> r.request() == SET_STATUS && r.u64() == DRIVER_OK_STATUS), SEQUENCE_TIMEOUT_MS);
        assertTrue(driverOk, "no SET_STATUS 0xf from testpmd; handler saw "
                + (handler.get() == null ? "nothing" : handler.get().received()) + "\ntestpmd:\n"
                + testpmd.transcriptTail(40));
    }

    private static void checkSequence(final RecordingHandler handler, final String mode) {
        final List<Received> received = handler.received();
        System.out.println("testpmd (" + mode + " mode) sent:");
        received.forEach(r -> System.out.println("  " + r));
        final List<String> expected = expectedSequence();
        final List<String> names = handler.requestNames();
        assertTrue(names.size() >= expected.size(), "too few requests: " + names);
        assertEquals(expected, names.subList(0, expected.size()), "the sequence up to DRIVER_OK (" + mode + ")");
        for (int i = 0; i < expected.size(); i++) {
            final Received r = received.get(i);
            final boolean needReply = r.request() == SET_MEM_TABLE || r.request() == SET_STATUS;
            assertEquals(needReply ? 0x9 : 0x1, r.flags(), "flags of " + r);
        }
        final Received protocolFeatures = received.get(3);
        assertEquals(0x10009L, protocolFeatures.u64(), "testpmd asks for MQ|REPLY_ACK|STATUS");
        assertEquals(0xbL, received.get(7).u64(), "status FEATURES_OK before the rings");
        final Received memoryTable = received.get(10);
        assertEquals(1, memoryTable.fdCount(), "one memfd region");
        for (Received r : received) {
            if (r.request() == SET_VRING_CALL || r.request() == SET_VRING_KICK) {
                assertEquals(1, r.fdCount(), "an eventfd with " + r);
            }
        }
        final List<String> teardown = names.subList(expected.size(), names.size());
        assertTrue(teardown.contains("GET_VRING_BASE"), "teardown reaches the handler: " + teardown);
    }
}

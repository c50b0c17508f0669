package io.vioplane.peers.dpdk;

import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The testpmd harness end to end with two real testpmds over a vhost-user socket: DPDK's virtio-user front-end
 * in txonly sends 64-byte packets to DPDK's vhost back-end in rxonly, over split and packed rings. Prints the
 * packet rates seen (the reference figure for vioplane's own back-end); asserts only on counts.
 */
@Tag("dpdk")
class TestpmdHarnessTest {
    private static final long STARTUP_TIMEOUT_MS = 60_000;
    private static final long RUN_MS = 3_000;
    private static final int PACKET_LENGTH_BYTES = 64;
    private static final int TAIL_LINES = 30;

    @TempDir
    Path directory;

    @BeforeEach
    void requireDpdk() {
        Requirements.requireRoot();
        Requirements.requireCommand("dpdk-testpmd", "DPDK (apt-get install dpdk-dev)");
    }

    @Test
    void dpdkBackEndReceivesWhatDpdkFrontEndSendsOverASplitRing() throws Exception {
        sendFromFrontEndToBackEnd("split", "");
    }

    @Test
    void dpdkBackEndReceivesWhatDpdkFrontEndSendsOverAPackedRing() throws Exception {
        sendFromFrontEndToBackEnd("packed", ",packed_vq=1");
    }

    @Test
    void frontEndFacingASilentBackEndTimesOutAndStillStopsAndCleansUp() throws Exception {
        final Path socketPath = directory.resolve("silent.sock");
        try (ServerSocketChannel silentBackEnd = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            silentBackEnd.bind(UnixDomainSocketAddress.of(socketPath));
            final Testpmd frontEnd = frontEnd(socketPath, "").build();
            try (frontEnd) {
                frontEnd.start();
                final IllegalStateException timeout = assertThrows(IllegalStateException.class,
                        () -> frontEnd.awaitOutput(Testpmd.FORWARDING_STARTED, 3_000),
                        "no vhost-user reply, so no port and no forwarding");
                assertTrue(timeout.getMessage().contains("within 3000 ms"), timeout.getMessage());
                assertTrue(frontEnd.isRunning(), "testpmd waits for the back-end's reply");

                final TestpmdStats stats = frontEnd.stop();
                assertTrue(stats.ports().isEmpty(), "SIGINT ended the probe: testpmd forwarded on no port");
                assertEquals(0, stats.accumulated().txPackets());
            }
            assertStoppedAndCleanedUp(frontEnd);
        }
    }

    private void sendFromFrontEndToBackEnd(final String ring, final String ringDevargs) throws Exception {
        final Path socketPath = directory.resolve("vhost.sock");
        final Testpmd backEnd = Testpmd.builder().name("backend")
                .vdev("net_vhost0,iface=" + socketPath + ",queues=1")
                .forwardMode(ForwardMode.RXONLY)
                .cpu(0)
                .build();
        final Testpmd frontEnd = frontEnd(socketPath, ringDevargs).build();
        try (backEnd; frontEnd) {
            backEnd.start();
            backEnd.awaitOutput(Testpmd.FORWARDING_STARTED, STARTUP_TIMEOUT_MS);
            frontEnd.start();
            frontEnd.awaitOutput(Testpmd.FORWARDING_STARTED, STARTUP_TIMEOUT_MS);
            final long forwardingSinceNanos = System.nanoTime();
            backEnd.awaitOutput(Testpmd.VHOST_DEVICE_READY, STARTUP_TIMEOUT_MS);
            Thread.sleep(RUN_MS);
            final double sendingSeconds =
                    (System.nanoTime() - forwardingSinceNanos) / (double) TimeUnit.SECONDS.toNanos(1);

            final PortForwardStats sent = frontEnd.stop().port(0);
            final PortForwardStats received = backEnd.stop().port(0);

            final double sentMpps = sent.txPackets() / sendingSeconds / 1e6;
            final double receivedMpps = received.rxPackets() / sendingSeconds / 1e6;
            System.out.printf("testpmd reference, %s ring, %d-byte txonly -> rxonly over %.2f s: front-end sent %d "
                            + "packets (%.2f Mpps; %d more refused by a full ring), back-end received %d (%.2f Mpps)%n",
                    ring, PACKET_LENGTH_BYTES, sendingSeconds, sent.txPackets(), sentMpps, sent.txDropped(),
                    received.rxPackets(), receivedMpps);
            final String transcripts = "\n--- front-end:\n" + frontEnd.transcriptTail(TAIL_LINES)
                    + "--- back-end:\n" + backEnd.transcriptTail(TAIL_LINES);
            assertTrue(sent.txPackets() > 0, "the front-end sent packets" + transcripts);
            assertTrue(received.rxPackets() > 0, "the back-end received packets" + transcripts);
            assertTrue(received.rxPackets() <= sent.txPackets(),
                    "the back-end received no more than the front-end sent" + transcripts);
        }
        assertStoppedAndCleanedUp(frontEnd);
        assertStoppedAndCleanedUp(backEnd);
    }

    private static Testpmd.Builder frontEnd(final Path socketPath, final String ringDevargs) {
        return Testpmd.builder().name("frontend")
                .vdev("net_virtio_user0,path=" + socketPath + ",queues=1,queue_size=256" + ringDevargs)
                .forwardMode(ForwardMode.TXONLY)
                .txPacketLengthBytes(PACKET_LENGTH_BYTES)
                .cpu(Math.min(1, Runtime.getRuntime().availableProcessors() - 1));
    }

    private static void assertStoppedAndCleanedUp(final Testpmd testpmd) {
        assertFalse(testpmd.isRunning(), testpmd.name() + " process has ended");
        assertFalse(Files.exists(testpmd.runtimeDir()), testpmd.runtimeDir() + " was removed");
    }
}

package io.vioplane.peers.dpdk;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The command lines the testpmd builder writes; no DPDK needed. */
class TestpmdCommandLineTest {
    @Test
    void pinnedTxonlyFrontEndRunsLineBufferedWithoutHugepages() {
        final List<String> command = Testpmd.builder()
                .vdev("net_virtio_user0,path=/tmp/s,queues=1,queue_size=256,packed_vq=1")
                .forwardMode(ForwardMode.TXONLY)
                .txPacketLengthBytes(64)
                .cpu(1)
                .build().commandLine();

        final List<String> expectedWithoutPrefix = List.of("stdbuf", "-oL", "taskset", "-c", "1", "dpdk-testpmd",
                "--lcores", "0@1,1@1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", "PREFIX",
                "--vdev", "net_virtio_user0,path=/tmp/s,queues=1,queue_size=256,packed_vq=1", "--",
                "--forward-mode=txonly", "-a", "--txpkts=64", "--total-num-mbufs=8192");
        assertEquals(expectedWithoutPrefix, command.stream().map(a -> a.startsWith("vp-") ? "PREFIX" : a).toList());
    }

    @Test
    void unpinnedMultiQueueLoopPassesQueuesTxFirstStatsAndExtraArguments() {
        final List<String> command = Testpmd.builder()
                .vdev("net_vhost0,iface=/tmp/s,queues=2,client=1")
                .forwardMode(ForwardMode.IO)
                .txFirst(true)
                .queues(2)
                .memoryMegabytes(512)
                .totalMbufs(16384)
                .statsPeriodSeconds(1)
                .ealArgument("--log-level=8")
                .testpmdArgument("--burst=64")
                .build().commandLine();

        final int separator = command.indexOf("--");
        assertEquals(List.of("stdbuf", "-oL", "dpdk-testpmd", "--no-huge", "-m", "512", "--no-pci"),
                command.subList(0, 7), "no taskset, no --lcores");
        assertEquals("--log-level=8", command.get(separator - 1));
        assertEquals(List.of("--forward-mode=io", "-a", "--tx-first", "--rxq=2", "--txq=2",
                "--total-num-mbufs=16384", "--stats-period", "1", "--burst=64"),
                command.subList(separator + 1, command.size()));
    }

    @Test
    void everyInstanceGetsItsOwnFilePrefixAndRuntimeDirectory() {
        final Testpmd.Builder builder = Testpmd.builder().name("peer").vdev("net_vhost0,iface=/tmp/s");
        final Testpmd first = builder.build();
        final Testpmd second = builder.build();

        assertNotEquals(first.filePrefix(), second.filePrefix());
        assertTrue(first.filePrefix().startsWith("vp-peer-" + ProcessHandle.current().pid() + "-"));
        assertEquals(first.filePrefix(), first.runtimeDir().getFileName().toString());
        assertTrue(first.commandLine().contains(first.filePrefix()));
    }

    @Test
    void namesThatCannotBeAFilePrefixAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Testpmd.builder().name("no/slash"));
        assertThrows(IllegalArgumentException.class, () -> Testpmd.builder().name(""));
    }

    @Test
    void anUnstartedTestpmdClosesQuietlyAndRefusesToStop() {
        final Testpmd testpmd = Testpmd.builder().build();

        testpmd.close();
        assertThrows(IllegalStateException.class, testpmd::stop);
        assertFalse(testpmd.isRunning());
    }

    @Test
    void runsInsideANetworkNamespaceThroughIpNetnsExec() {
        final List<String> command = Testpmd.builder().name("ns").vdev("net_tap0,iface=dtap0")
                .networkNamespace("vp-bench-1").build().commandLine();
        assertEquals(List.of("ip", "netns", "exec", "vp-bench-1", "stdbuf", "-oL", "dpdk-testpmd"),
                command.subList(0, 7));
    }
}

package io.vioplane.cli.daemon;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The host side of a guest's network in the guest tests: the daemon's TAP in a namespace, iperf3 servers there. */
final class GuestNetwork {
    private static final Duration IPERF = Duration.ofSeconds(90);

    private GuestNetwork() {
    }

    /** Skips (fails under VIOPLANE_REQUIRE_PEERS) unless a QEMU guest with iperf3 and ethtool can go onto a TAP. */
    static void requireGuestOnTapPeers() {
        Requirements.requireTapAndNetns();
        Requirements.requireCommand("iperf3", "iperf3");
        Requirements.requireCommand("ethtool", "ethtool");
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
    }

    /** Moves the daemon's TAP into the namespace with {@code addressWithLength} (e.g. 10.55.0.1/24), up, no IPv6. */
    static void addressTapInNamespace(final Netns netns, final String tapName, final String addressWithLength) {
        netns.adopt(tapName);
        netns.tryExec("sysctl", "-qw", "net.ipv6.conf." + tapName + ".disable_ipv6=1");
        netns.exec("ip", "addr", "add", addressWithLength, "dev", tapName);
        netns.exec("ip", "link", "set", tapName, "up");
    }

    /** Starts a one-shot iperf3 server on {@code address} in the namespace and waits until it listens. */
    static Process startIperfServer(final Netns netns, final Path directory, final String address) throws Exception {
        final Process server = new ProcessBuilder(netns.commandLine("iperf3", "-s", "-1", "-B", address))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(
                        directory.resolve("iperf3-server.log").toFile())).start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!netns.exec("ss", "-ltnH").contains(address + ":5201")) {
            if (System.nanoTime() > deadline) {
                server.destroy();
                throw new AssertionError("the iperf3 server did not listen on " + address);
            }
            Thread.sleep(20);
        }
        return server;
    }

    /**
     * Runs {@code iperf3 -c ADDRESS OPTIONS} in the guest against a server in the namespace; it must succeed.
     *
     * @return the guest's iperf3 output
     */
    static ShellResult iperfToNamespace(final QemuGuest guest, final Netns netns, final Path directory,
                                        final String address, final String options) throws Exception {
        final Process server = startIperfServer(netns, directory, address);
        try {
            final ShellResult run = guest.run("iperf3 -c " + address + " -f m " + options, IPERF);
            assertEquals(0, run.exitStatus(), "iperf3 " + options + " from the guest to " + address + ":\n"
                    + run.output());
            return run;
        } finally {
            server.destroy();
            server.waitFor();
        }
    }
}

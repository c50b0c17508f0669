package io.vioplane.cli.remote;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.virtionet.port.DiscardPort;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Exploration: prints what the guest sees of the remote e1000 and of QEMU's own. */
@Tag("qemu")
class E1000RemoteGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final String MAC = "52:54:00:12:34:56";
    private static final long MAC_EEPROM = 0x5634_1200_5452L;
    static final String DUMP = "for d in /sys/bus/pci/devices/*; do echo $(basename $d) $(cat $d/vendor) $(cat $d/device)"
            + " $(cat $d/subsystem_vendor) $(cat $d/subsystem_device) $(cat $d/class) $(cat $d/revision); done;"
            + " echo ---; ls /sys/bus/pci/drivers/e1000; echo ---; ip link show eth0; echo ---; ethtool -i eth0;"
            + " echo ---; ethtool -e eth0; echo ---; ethtool -d eth0; echo ---; ethtool eth0; echo ---;"
            + " dmesg | grep -i -e e1000 -e 0000:00";

    @Test
    void explore(@TempDir final Path directory) throws Exception {
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        Requirements.requireCommand("perl", "perl-base");
        final Path socket = directory.resolve("e1000.sock");
        final int listening = UnixSockets.socket(false);
        UnixSockets.bind(listening, socket.toString());
        UnixSockets.listen(listening, 1);
        final CompletableFuture<RemoteE1000> device = new CompletableFuture<>();
        final CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
            final int fd = UnixSockets.accept(listening, false);
            final RemoteE1000 remote = new RemoteE1000(fd, new DiscardPort(), MAC_EEPROM, Counters.inMemory(256),
                    ErrorLog.printingTo(System.err), "e1000[test]");
            device.complete(remote);
            return remote.serve();
        });
        try (QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard()).connectedSocket(socket)
                .extraArguments("-machine", "q35", "-device", "x-pci-proxy-dev,id=p0,fd=" + QemuGuest.CONNECTED_FD)
                .build()) {
            guest.start();
            guest.awaitShell(BOOT);
            System.out.println("REMOTE:\n" + guest.run(DUMP, COMMAND).output());
        } finally {
            UnixSockets.shutdownQuietly(listening);
            FileIo.closeQuietly(listening);
        }
        final RemoteE1000 remote = device.get(10, TimeUnit.SECONDS);
        System.out.println("served: " + served.get(30, TimeUnit.SECONDS));
        System.out.println(remote.protocolCounters());
        System.out.println(remote.deviceCounters());
        remote.close();
        try (QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard())
                .extraArguments("-machine", "q35", "-device", "e1000,romfile=,mac=" + MAC).build()) {
            guest.start();
            guest.awaitShell(BOOT);
            System.out.println("QEMU:\n" + guest.run(DUMP, COMMAND).output());
        }
    }
}

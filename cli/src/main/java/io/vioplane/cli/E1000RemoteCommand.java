package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.cli.nic.E1000Link;
import io.vioplane.cli.remote.RemoteE1000;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code vioplane e1000-remote}: serves an Intel 82540EM to QEMU as a remote PCI device ({@code -device
 * x-pci-proxy-dev,fd=N}, QEMU's multi-process protocol). QEMU takes only an inherited, connected socket, so either
 * this command listens on {@code --socket-path} and a launcher connects there and execs QEMU with the descriptor
 * (the README shows one), or it is itself given one end of a socketpair with {@code --fd}.
 */
@Command(name = "e1000-remote", mixinStandardHelpOptions = true,
        description = "Serve an Intel 82540EM (e1000) to QEMU's x-pci-proxy-dev over a Unix socket.")
final class E1000RemoteCommand implements Callable<Integer> {
    @Option(names = "--socket-path", paramLabel = "PATH",
            description = "Listen here; serve each QEMU that connects, one at a time.")
    private Path socketPath;

    @Option(names = "--fd", paramLabel = "N", description = "Serve the connected socket inherited as descriptor N.")
    private Integer inheritedFd;

    @Option(names = "--mac", paramLabel = "MAC",
            description = "The EEPROM's Ethernet address (default: ${DEFAULT-VALUE}).")
    private String mac = "52:54:00:12:34:56";

    @Option(names = "--tap", paramLabel = "NAME",
            description = "Bridge the e1000 onto this TAP device (created if missing); without it frames are dropped.")
    private String tapName;

    @Override
    public Integer call() throws Exception {
        final long macAddress;
        try {
            macAddress = parseMac(mac);
        } catch (IllegalArgumentException e) {
            throw UserError.usage("--mac", e.getMessage());
        }
        if (tapName != null) {
            ArgumentChecks.checkInterfaceName("--tap", tapName);
        }
        if ((socketPath == null) == (inheritedFd == null)) {
            throw UserError.usage(null, "give exactly one of --socket-path and --fd");
        }
        try (CountersFile countersFile = CountersFile.create("vioplane e1000-remote")) {
            final Counters counters = Counters.in(countersFile);
            final ErrorLog log = ErrorLog.in(countersFile, System.err);
            final AtomicReference<RemoteE1000> serving = new AtomicReference<>();
            final int listening = inheritedFd == null ? UnixSockets.socket(false) : -1;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                // SIGTERM/SIGINT: end the connection being served and unblock accept(); the JVM then exits.
                final RemoteE1000 current = serving.get();
                if (current != null) {
                    current.stop();
                }
                UnixSockets.shutdownQuietly(listening);
                if (socketPath != null) {
                    try {
                        Files.deleteIfExists(socketPath);
                    } catch (java.io.IOException ignored) {
                        // Leaving the socket file behind is harmless: the next start removes it.
                    }
                }
            }));
            if (inheritedFd != null) {
                serveOne(inheritedFd, macAddress, counters, log, serving);
                return 0;
            }
            try {
                Files.deleteIfExists(socketPath);
                UnixSockets.bind(listening, socketPath.toString());
                UnixSockets.listen(listening, 1);
                System.out.println("vioplane: ready");
                while (true) {
                    final int connection;
                    try {
                        connection = UnixSockets.accept(listening, false);
                    } catch (io.vioplane.platform.sys.SysException e) {
                        break;
                    }
                    serveOne(connection, macAddress, counters, log, serving);
                }
            } finally {
                FileIo.closeQuietly(listening);
                Files.deleteIfExists(socketPath);
            }
            return 0;
        }
    }

    private void serveOne(final int fd, final long macAddress, final Counters counters, final ErrorLog log,
                          final AtomicReference<RemoteE1000> serving) {
        try (E1000Link link = tapName == null ? E1000Link.discarding()
                : E1000Link.tap(tapName, counters, null, log)) {
            if (tapName != null) {
                log.info("e1000-remote: bridging onto TAP " + tapName);
            }
            serve(new RemoteE1000(fd, link, macAddress, counters, log, "e1000[0]"), fd, log, serving);
        }
    }

    private static void serve(final RemoteE1000 remote, final int fd, final ErrorLog log,
                              final AtomicReference<RemoteE1000> serving) {
        try (RemoteE1000 device = remote) {
            serving.set(device);
            log.info("e1000-remote: serving QEMU on fd " + fd);
            log.info("e1000-remote: " + device.serve());
            serving.set(null);
        }
    }

    /** @return "52:54:00:12:34:56" as a long, first octet in the low byte (the EEPROM's order) */
    static long parseMac(final String text) {
        final String[] octets = text.trim().toLowerCase(Locale.ROOT).split(":");
        if (octets.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long value = 0;
        for (int i = 0; i < 6; i++) {
            final int octet;
            try {
                octet = Integer.parseInt(octets[i], 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            if (octet < 0 || octet > 0xFF || octets[i].length() > 2) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            value |= (long) octet << (8 * i);
        }
        return value;
    }
}

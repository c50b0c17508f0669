package io.vioplane.cli;

import io.vioplane.cli.conventions.ArgumentChecks;
import io.vioplane.cli.conventions.DaemonLifecycle;
import io.vioplane.cli.conventions.DaemonOptions;
import io.vioplane.cli.conventions.ExitCodes;
import io.vioplane.cli.conventions.SocketPaths;
import io.vioplane.cli.conventions.UserError;
import io.vioplane.cli.daemon.VhostUserNetDaemon;
import io.vioplane.vhostuser.backend.VhostUserBackend;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.vhostuser.protocol.ProtocolFeature;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.vring.VirtioFeature;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code vioplane vhost-user-net}: the vhost-user virtio-net back-end daemon. Runs in the foreground, says when
 * its sockets listen, keeps serving when a front-end goes away, and on SIGTERM or SIGINT stops the rings, unmaps
 * guest memory and removes its sockets.
 */
@Command(name = "vhost-user-net", mixinStandardHelpOptions = true,
        description = "Serve virtio-net devices to QEMU or DPDK over vhost-user sockets.")
final class VhostUserNetCommand implements Callable<Integer> {
    @Option(names = "--socket-path", paramLabel = "PATH", description = "vhost-user socket; repeat for more guests.")
    private List<Path> socketPaths = new ArrayList<>();

    @Option(names = "--client", description = "Connect to the front-end's socket (and reconnect) instead of listening.")
    private boolean client;

    @Option(names = "--socket-mode", paramLabel = "OCTAL", defaultValue = "0600",
            description = "Permissions of listening sockets (default: ${DEFAULT-VALUE}).")
    private String socketMode;

    @Option(names = "--queues", defaultValue = "1", description = "Queue pairs per device (default: ${DEFAULT-VALUE}).")
    private int queues;

    @Option(names = "--port", paramLabel = "echo|discard|bridge|generate",
            description = "Where frames go: echo (default for one socket), discard, bridge (default for several"
                    + " sockets, --tap, --nat or --host-only), or generate (a 64-byte frame source, for benchmarks).")
    private VhostUserNetDaemon.PortKind port;

    @Option(names = "--tap", paramLabel = "NAME", description = "Bridge the guests onto this host TAP device.")
    private String tap;

    @Mixin
    private GatewayOptions gateway = new GatewayOptions();

    @Mixin
    private DaemonOptions daemonOptions = new DaemonOptions();

    @Option(names = "--mac", defaultValue = "52:54:00:12:34:56",
            description = "MAC of the first device; further devices count up (default: ${DEFAULT-VALUE}).")
    private String mac;

    @Option(names = "--mtu", defaultValue = "1500", description = "MTU offered to guests (default: ${DEFAULT-VALUE}).")
    private int mtu;

    @Option(names = "--anti-spoof", description = "On the bridge, drop frames whose source MAC is not the guest's.")
    private boolean antiSpoof;

    @Option(names = "--capture", paramLabel = "DIR", description = "Record every frame into a journal in DIR.")
    private Path capture;

    @Option(names = "--busy-poll", description = "Never let the data-plane thread sleep (benchmarks: burns a core).")
    private boolean busyPoll;

    @Option(names = "--cpu", defaultValue = "-1", description = "Pin the data-plane thread to this CPU.")
    private int cpu;

    @Option(names = "--disable-feature", paramLabel = "NAME",
            description = "Do not offer a feature: mrg_rxbuf, packed, in_order, event_idx, indirect_desc, csum, tso,"
                    + " guest_csum, guest_tso, mtu, ctrl_vq, log_all, access_platform (the device IOTLB for guests"
                    + " with a virtual IOMMU) (repeatable).")
    private List<String> disabled = new ArrayList<>();

    @Option(names = "--disable-protocol-feature", paramLabel = "NAME",
            description = "Do not offer a vhost-user protocol feature: mq, log_shmfd, rarp, reply_ack, mtu,"
                    + " backend_req, config, configure_mem_slots, status, reset_device (repeatable).")
    private List<String> disabledProtocolFeatures = new ArrayList<>();

    @Option(names = "--record-protocol", paramLabel = "FILE",
            description = "Append every vhost-user request the front-ends send, and its outcome, to FILE.")
    private Path protocolRecording;

    @Option(names = "--print-capabilities", description = "Print the back-end's capabilities as JSON and exit.")
    private boolean printCapabilities;

    @Override
    public Integer call() throws InterruptedException {
        if (printCapabilities) {
            System.out.println("{\n  \"type\": \"net\",\n  \"features\": []\n}");
            return 0;
        }
        final VhostUserNetDaemon.PortKind kind = port != null ? port
                : (socketPaths.size() > 1 || tap != null || gateway.requested() ? VhostUserNetDaemon.PortKind.BRIDGE
                        : VhostUserNetDaemon.PortKind.ECHO);
        final VhostUserNetDaemon.Config config = config(kind);
        try (DaemonLifecycle lifecycle = DaemonLifecycle.begin(daemonOptions, System.err);
             VhostUserNetDaemon daemon = ArgumentChecks.starting(() -> VhostUserNetDaemon.start(config, System.err))) {
            lifecycle.serve(daemon.countersFile(), kind.name().toLowerCase(Locale.ROOT) + ", " + queues
                    + " queue pair(s)");
        }
        return ExitCodes.OK;
    }

    /** Every argument checked, including those that need the machine, before anything starts. */
    private VhostUserNetDaemon.Config config(final VhostUserNetDaemon.PortKind kind) {
        final VhostUserNetDaemon.Config config;
        try {
            config = new VhostUserNetDaemon.Config(socketPaths, client, parseSocketMode(), queues, kind,
                    parseMac(mac), mtu, features(), tap, antiSpoof, capture, busyPoll, cpu, gateway.toConfig(mtu),
                    withheldProtocolFeatures(), protocolRecording);
        } catch (IllegalArgumentException e) {
            throw UserError.usage(null, e.getMessage());
        }
        ArgumentChecks.checkInterfaceName("--tap", tap);
        ArgumentChecks.checkInterfaceName("--nat", gateway.natTap);
        ArgumentChecks.checkCpu("--cpu", cpu);
        ArgumentChecks.checkParentDirectory("--capture", capture);
        ArgumentChecks.checkParentDirectory("--record-protocol", protocolRecording);
        if (!client) {
            socketPaths.forEach(SocketPaths::checkListenable);
        }
        return config;
    }

    private int parseSocketMode() {
        try {
            return Integer.parseInt(socketMode, 8);
        } catch (NumberFormatException e) {
            throw UserError.usage("--socket-mode", "not an octal mode: " + socketMode);
        }
    }

    private long features() {
        long features = VirtioNetFeature.all() | VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM);
        if (queues == 1) {
            features &= ~VirtioFeature.bit(VirtioNetFeature.MQ);
        }
        for (String name : disabled) {
            features &= ~switch (name.toLowerCase(Locale.ROOT)) {
                case "mrg_rxbuf" -> VirtioFeature.bit(VirtioNetFeature.MRG_RXBUF);
                case "packed" -> VirtioFeature.bit(VirtioFeature.RING_PACKED);
                case "in_order" -> VirtioFeature.bit(VirtioFeature.IN_ORDER);
                case "event_idx" -> VirtioFeature.bit(VirtioFeature.EVENT_IDX);
                case "indirect_desc" -> VirtioFeature.bit(VirtioFeature.INDIRECT_DESC);
                case "csum" -> VirtioFeature.mask(VirtioNetFeature.CSUM, VirtioNetFeature.HOST_TSO4, VirtioNetFeature.HOST_TSO6);
                case "tso" -> VirtioFeature.mask(VirtioNetFeature.HOST_TSO4, VirtioNetFeature.HOST_TSO6);
                case "guest_csum" -> VirtioFeature.mask(VirtioNetFeature.GUEST_CSUM, VirtioNetFeature.GUEST_TSO4,
                        VirtioNetFeature.GUEST_TSO6);
                case "guest_tso" -> VirtioFeature.mask(VirtioNetFeature.GUEST_TSO4, VirtioNetFeature.GUEST_TSO6);
                case "mtu" -> VirtioFeature.bit(VirtioNetFeature.MTU);
                case "ctrl_vq" -> VirtioFeature.mask(VirtioNetFeature.CTRL_VQ, VirtioNetFeature.CTRL_RX,
                        VirtioNetFeature.CTRL_MAC_ADDR, VirtioNetFeature.MQ, VirtioNetFeature.GUEST_ANNOUNCE);
                case "log_all" -> VirtioFeature.bit(VirtioFeature.LOG_ALL);
                case "access_platform" -> VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM);
                default -> throw UserError.usage("--disable-feature", "unknown feature " + name);
            };
        }
        return features;
    }

    private long withheldProtocolFeatures() {
        long mask = 0;
        for (String name : disabledProtocolFeatures) {
            final int bit = ProtocolFeature.bitNamed(name);
            final long offered = VhostUserBackend.BACKEND_PROTOCOL_FEATURES | NetVhostUserDevice.NET_PROTOCOL_FEATURES;
            if (bit < 0 || (offered & VirtioFeature.bit(bit)) == 0) {
                throw UserError.usage("--disable-protocol-feature", name
                        + " is not a protocol feature the daemon offers");
            }
            mask |= VirtioFeature.bit(bit);
        }
        return mask;
    }

    private static byte[] parseMac(final String text) {
        final String[] parts = text.split(":");
        if (parts.length != 6) {
            throw UserError.usage("--mac", "not a MAC address: " + text);
        }
        final byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (parts[i].isEmpty() || parts[i].length() > 2
                    || !parts[i].chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                throw UserError.usage("--mac", "not a MAC address: " + text);
            }
            mac[i] = (byte) HexFormat.fromHexDigits(parts[i]);
        }
        return mac;
    }
}

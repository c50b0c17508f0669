package io.vioplane.cli.daemon;

import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.tap.bridge.TapBridgePort;
import io.vioplane.tap.capture.CapturingPort;
import io.vioplane.tap.capture.PacketCapture;
import io.vioplane.tap.device.TapDevice;
import io.vioplane.tap.gateway.NatConfig;
import io.vioplane.tap.gateway.NatGateway;
import io.vioplane.vhostuser.backend.IotlbListener;
import io.vioplane.vhostuser.backend.MessageRecorder;
import io.vioplane.vhostuser.backend.VhostUserBackend;
import io.vioplane.vhostuser.net.NetVhostUserDevice;
import io.vioplane.virtionet.VirtioNetConfig;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.engine.VirtioNetDevice;
import io.vioplane.virtionet.port.DiscardPort;
import io.vioplane.virtionet.port.EchoPort;
import io.vioplane.virtionet.port.GeneratorPort;
import io.vioplane.virtionet.port.NetPort;
import io.vioplane.vring.VirtioFeature;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The vhost-user virtio-net daemon (QEMU docs/interop/vhost-user.rst, "Backend program conventions"): one
 * virtio-net device per socket, served in server mode (the daemon listens, the default) or client mode (it
 * connects and reconnects), with frames going to an echo port, a discard port, or an L2 bridge joining all the
 * sockets' guests and, optionally, a host TAP device and a virtual gateway ({@link NatGateway}: DHCP, ARP and
 * ping for the guests' subnet, and in NAT mode address translation onto a TAP of its own).
 *
 * <p>One control-plane thread (Netty event loop) speaks vhost-user; one data-plane thread runs every device and
 * the bridge. A front-end that disconnects leaves the daemon listening for the next one. {@link #close()} stops
 * the rings, unmaps guest memory, removes the sockets and the counters file.
 */
public final class VhostUserNetDaemon implements AutoCloseable {
    private static final IotlbListener NO_LISTENER = (iova, sizeBytes, permissions, gpaPieces, memory) -> { };
    /** What frames do once a guest sends them. */
    public enum PortKind {
        /** Back to the sender, addresses swapped. */
        ECHO,
        /** Counted and dropped. */
        DISCARD,
        /** Onto an L2 learning bridge with the other sockets' guests (and the TAP, if any). */
        BRIDGE,
        /** A traffic source: 64-byte frames into the guest as fast as it takes them; its own frames dropped. */
        GENERATE
    }

    /**
     * The daemon's configuration, validated once by {@link #start}.
     *
     * @param socketPaths  one socket per guest
     * @param client       connect to the front-ends' sockets instead of listening
     * @param socketMode   permission bits of listening sockets
     * @param queuePairs   queue pairs per device
     * @param port         where frames go
     * @param firstMac     the first device's MAC; the next devices count up from it
     * @param mtu          the MTU offered to guests
     * @param features     the virtio features offered
     * @param tapName      a host TAP to bridge onto, or null
     * @param antiSpoof    drop frames whose source MAC is not the guest's own (bridge)
     * @param captureDir   record frames into a journal there, or null
     * @param busyPoll     never block the data plane (benchmarks)
     * @param dataPlaneCpu the CPU the data-plane thread is pinned to, or -1
     * @param gateway      a NAT or host-only gateway joining the bridge, or null
     * @param withheldProtocolFeatures vhost-user protocol features not offered (bit mask)
     * @param protocolRecording        a file every front-end request is recorded into, or null
     */
    public record Config(List<Path> socketPaths, boolean client, int socketMode, int queuePairs, PortKind port,
                         byte[] firstMac, int mtu, long features, String tapName, boolean antiSpoof, Path captureDir,
                         boolean busyPoll, int dataPlaneCpu, NatConfig gateway, long withheldProtocolFeatures,
                         Path protocolRecording) {
        /** A configuration offering every protocol feature and recording nothing. */
        public Config(final List<Path> socketPaths, final boolean client, final int socketMode, final int queuePairs,
                      final PortKind port, final byte[] firstMac, final int mtu, final long features,
                      final String tapName, final boolean antiSpoof, final Path captureDir, final boolean busyPoll,
                      final int dataPlaneCpu, final NatConfig gateway) {
            this(socketPaths, client, socketMode, queuePairs, port, firstMac, mtu, features, tapName, antiSpoof,
                    captureDir, busyPoll, dataPlaneCpu, gateway, 0, null);
        }

        /** Checks the configuration, naming the option at fault. */
        public Config {
            if (socketPaths.isEmpty()) {
                throw new IllegalArgumentException("--socket-path: at least one socket is needed");
            }
            if (queuePairs < 1 || queuePairs > 128) {
                throw new IllegalArgumentException("--queues: must be 1..128, not " + queuePairs);
            }
            if (mtu < 68 || mtu > 65535) {
                throw new IllegalArgumentException("--mtu: must be 68..65535, not " + mtu);
            }
            if (firstMac.length != 6 || (firstMac[0] & 1) != 0) {
                throw new IllegalArgumentException("--mac: must be a unicast MAC address");
            }
            if (port != PortKind.BRIDGE && (socketPaths.size() > 1 || tapName != null || gateway != null)) {
                throw new IllegalArgumentException("--port: " + port.name().toLowerCase()
                        + " serves one socket without a TAP or gateway: use --port bridge for several sockets,"
                        + " --tap, --nat or --host-only");
            }
            if (gateway != null && gateway.tapName() != null && gateway.tapName().equals(tapName)) {
                throw new IllegalArgumentException("--nat: --nat and --tap name the same device " + tapName
                        + ": the NAT's host side is a TAP of its own, not bridged to the guests");
            }
        }
    }

    private final Config config;
    private final DaemonRuntime runtime;
    private final CountersFile countersFile;
    private final Counters counters;
    private final ErrorLog errorLog;
    private final DataPlane dataPlane;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final List<VirtioNetDevice> devices = new ArrayList<>();
    private final List<AutoCloseable> endpoints = new ArrayList<>();
    private final List<CounterSet<DeviceIotlbCounter>> iotlbCounters = new ArrayList<>();
    private final List<IotlbListener> iotlbListeners = new CopyOnWriteArrayList<>();
    private Bridge bridge;
    private TapBridgePort tap;
    private MessageRecorder recorder;
    private NatGateway gateway;
    private PacketCapture capture;

    private VhostUserNetDaemon(final Config config, final PrintStream log) {
        this.config = config;
        this.runtime = new DaemonRuntime("vioplane vhost-user-net " + config.socketPaths(), config.busyPoll(),
                config.dataPlaneCpu(), log);
        this.countersFile = runtime.countersFile();
        this.counters = runtime.counters();
        this.errorLog = runtime.errorLog();
        this.dataPlane = runtime.dataPlane();
    }

    /**
     * Starts serving: the sockets listen (or connect) when this returns.
     *
     * @param log where lifecycle lines go (standard error for the daemon)
     */
    public static VhostUserNetDaemon start(final Config config, final PrintStream log) {
        final VhostUserNetDaemon daemon = new VhostUserNetDaemon(config, log);
        try {
            daemon.startPorts();
            daemon.startSockets();
            return daemon;
        } catch (RuntimeException e) {
            daemon.close();
            throw e;
        }
    }

    private void startPorts() {
        if (config.captureDir() != null) {
            capture = new PacketCapture(config.captureDir(), PacketCapture.DEFAULT_SNAP_BYTES,
                    PacketCapture.DEFAULT_RING_BYTES, counters);
            closing.add(capture);
        }
        if (config.port() == PortKind.BRIDGE) {
            bridge = Bridge.create("br0", counters);
            if (config.tapName() != null) {
                tap = new TapBridgePort(config.tapName(), config.queuePairs() > 1, bridge, config.mtu(), counters,
                        dataPlane, errorLog);
                closing.add(tap);
                dataPlane.add(tap);
                errorLog.info("vioplane: bridging onto TAP " + config.tapName());
            }
            if (config.gateway() != null) {
                gateway = NatGateway.open("gw", config.gateway(), bridge, counters, dataPlane, errorLog);
                closing.add(gateway);
                dataPlane.add(gateway);
                errorLog.info("vioplane: " + describe(config.gateway()));
            }
        }
    }

    private static String describe(final NatConfig nat) {
        final String guestSide = "gateway " + nat.gateway() + " on " + nat.guestSubnet() + ", DHCP from "
                + nat.firstGuestAddress() + " (" + nat.leasePoolSize() + " leases)";
        return switch (nat.mode()) {
            case HOST_ONLY -> "host-only " + guestSide;
            case NAT -> "NAT " + guestSide + "; guests leave from " + nat.hostAddress() + "/" + nat.hostPrefixLength()
                    + " on TAP " + nat.tapName() + " via " + nat.nextHop()
                    + (nat.forwards().isEmpty() ? "" : ", forwarding " + nat.forwards());
        };
    }

    private NetPort portFor(final int index, final byte[] mac) {
        final NetPort port = switch (config.port()) {
            case ECHO -> {
                final EchoPort echo = new EchoPort(config.queuePairs(), 1024);
                closing.add(echo);
                yield echo;
            }
            case DISCARD -> new DiscardPort();
            case GENERATE -> new GeneratorPort(64);
            case BRIDGE -> {
                final GuestBridgePort guest = new GuestBridgePort("vm" + index, bridge, config.mtu(),
                        config.antiSpoof() ? mac : null, 1024, config.queuePairs());
                closing.add(guest);
                yield guest;
            }
        };
        return capture != null && config.port() != PortKind.BRIDGE ? new CapturingPort(port, capture, index) : port;
    }

    private void startSockets() {
        if (config.protocolRecording() != null) {
            recorder = MessageRecorder.appendingTo(config.protocolRecording());
            closing.add(recorder);
            errorLog.info("vioplane: recording every front-end request into " + config.protocolRecording());
        }
        for (int i = 0; i < config.socketPaths().size(); i++) {
            final Path path = config.socketPaths().get(i);
            final byte[] mac = config.firstMac().clone();
            mac[5] = (byte) (mac[5] + i);
            final VirtioNetDevice device = new VirtioNetDevice("net[" + path + "]",
                    new VirtioNetConfig(mac, config.queuePairs(), config.mtu()), config.features(), portFor(i, mac),
                    counters);
            devices.add(device);
            if (tap != null) {
                device.setFeaturesListener(features -> updateTapOffloads());
            }
            final NetVhostUserDevice vhostDevice = new NetVhostUserDevice(device);
            final CounterSet<DeviceIotlbCounter> iotlb = new CounterSet<>(counters, DeviceIotlbCounter.class,
                    "net[" + path + "]", CounterType.DEVICE);
            iotlbCounters.add(iotlb);
            closing.add(iotlb);
            iotlbListeners.add(NO_LISTENER);
            final int socket = i;
            final IotlbListener forward = new IotlbListener() {
                @Override
                public void updated(final long iova, final long sizeBytes, final int permissions,
                                    final long[] gpaPieces, final DmaSpace guestMemory) {
                    iotlbListeners.get(socket).updated(iova, sizeBytes, permissions, gpaPieces, guestMemory);
                }

                @Override
                public void invalidated(final long iova, final long sizeBytes) {
                    iotlbListeners.get(socket).invalidated(iova, sizeBytes);
                }
            };
            final Supplier<VhostUserBackend> backends = () -> new VhostUserBackend(vhostDevice, dataPlane, errorLog)
                    .withholdProtocolFeatures(config.withheldProtocolFeatures()).recordTo(recorder)
                    .iotlbCounters(iotlb).iotlbListener(forward);
            final AutoCloseable endpoint = runtime.serve(path, backends::get, config.client(), config.socketMode());
            endpoints.add(endpoint);
        }
        if (bridge != null && capture != null) {
            dataPlane.run(() -> bridge.setCapture(capture));
        }
    }

    /**
     * Data-plane thread: lets the kernel hand the TAP's frames to the bridge with the offloads every connected
     * guest can receive (TUNSETOFFLOAD), so large TCP segments cross without being split when all guests take them.
     */
    private void updateTapOffloads() {
        long common = -1L;
        boolean anyGuest = false;
        for (VirtioNetDevice device : devices) {
            final long features = device.negotiatedFeatures();
            if (features != 0) {
                common &= features;
                anyGuest = true;
            }
        }
        int flags = 0;
        if (anyGuest && VirtioFeature.has(common, VirtioNetFeature.GUEST_CSUM)) {
            flags |= TapDevice.TUN_F_CSUM;
            if (VirtioFeature.has(common, VirtioNetFeature.GUEST_TSO4)) {
                flags |= TapDevice.TUN_F_TSO4;
            }
            if (VirtioFeature.has(common, VirtioNetFeature.GUEST_TSO6)) {
                flags |= TapDevice.TUN_F_TSO6;
            }
        }
        tap.setOffloads(flags);
    }

    /** @return the TUN_F_* offloads set on the TAP, or 0 without a TAP (data-plane thread) */
    public int tapOffloads() {
        return tap == null ? 0 : tap.offloads();
    }

    /** @return the devices, one per socket */
    public List<VirtioNetDevice> devices() {
        return List.copyOf(devices);
    }

    /** @return true while a front-end is connected to socket {@code index} (server or client mode) */
    public boolean connected(final int index) {
        return DaemonRuntime.connected(endpoints.get(index));
    }

    /**
     * @return the device-IOTLB counters of socket {@code index} (VIRTIO_F_ACCESS_PLATFORM: updates, invalidations,
     *     misses, refusals), across front-end connections
     */
    public CounterSet<DeviceIotlbCounter> iotlbCounters(final int index) {
        return iotlbCounters.get(index);
    }

    /**
     * Tells {@code listener} of every IOTLB UPDATE and INVALIDATE that socket {@code index}'s back-end applies, on the
     * data-plane thread as each takes effect (tests check the front-end's translations against the guest's own IOMMU
     * tables); null stops telling.
     */
    public void iotlbListener(final int index, final IotlbListener listener) {
        iotlbListeners.set(index, listener == null ? NO_LISTENER : listener);
    }

    /** @return the NAT or host-only gateway, or null */
    public NatGateway gateway() {
        return gateway;
    }

    /** @return the bridge, or null unless bridging */
    public Bridge bridge() {
        return bridge;
    }

    /** @return the data-plane thread */
    public DataPlane dataPlane() {
        return dataPlane;
    }

    /** @return the process's counters file */
    public CountersFile countersFile() {
        return countersFile;
    }

    /** Stops serving: sockets closed and removed, rings stopped, memory unmapped, counters file deleted. */
    @Override
    public void close() {
        runtime.close(closing);
    }
}

package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.ConnectionTable;
import io.vioplane.tap.nat.FragmentTable;
import io.vioplane.tap.nat.GuestNeighbors;
import io.vioplane.tap.nat.NatCounters;
import io.vioplane.tap.nat.NatDrop;
import io.vioplane.tap.nat.NatTranslator;
import io.vioplane.platform.packet.Ethernet;
import io.vioplane.platform.packet.Ipv4Address;
import io.vioplane.platform.packet.MacAddress;
import io.vioplane.platform.packet.Wire;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.BridgeMember;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.function.LongSupplier;

/**
 * The virtual gateway of a guest bridge, in NAT or host-only mode.
 *
 * <p>On the guest side it is a {@link BridgeMember} with a virtual MAC: it answers ARP for the gateway address
 * (RFC 826), ICMP echo to it (RFC 792) and DHCP (RFC 2131/2132) for the subnet, and drops guest packets it may
 * not forward (spoofed sources, malformed headers, broadcasts; RFC 1812 5.2.2 and 5.3.7). In
 * {@link NatMode#NAT} it translates guest flows onto its own address on a {@link HostLink} it owns, a TAP device
 * not bridged to the guests (RFC 3022 NAPT with RFC 4787/5382 mapping and timeouts, RFC 5508 ICMP errors,
 * RFC 1624 incremental checksums, first-fragment tracking), and forwards configured host ports to guests. In
 * {@link NatMode#HOST_ONLY} nothing goes beyond the gateway.
 *
 * <p>Everything runs on one data-plane thread: the bridge calls {@link #egress} for frames toward the gateway,
 * and the data plane calls {@link #poll}, which sends the replies the gateway made into the bridge, reads a
 * burst of frames from the host link and ages state. No locks, and no allocation per forwarded frame (DHCP
 * allocates a little per lease). Every drop has a named counter ({@link NatCounters}); nothing on the
 * forwarding path throws.
 */
public final class NatGateway implements BridgeMember, DataPlane.Pollable, AutoCloseable {
    /** The largest frame handled: a 64 KiB GSO frame with its Ethernet header and a VLAN tag's room. */
    public static final int MAX_FRAME_BYTES = 65536 + 18;
    /** Replies that can wait for the next poll. */
    public static final int REPLY_QUEUE_FRAMES = 64;
    private static final int EXPIRY_BUDGET = 64;

    private final String name;
    private final NatConfig config;
    private final Bridge bridge;
    private final LongSupplier clock;
    private final DataPlane dataPlane;
    private final NatCounters counters;
    private final int index;
    private final int maxFrameBytes;
    /** NAT mode only. */
    private final ConnectionTable connections;
    private final DhcpLeases leases;
    private final GuestSide guestSide;
    private final HostSide hostSide;
    private final ReplyQueue replies;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment guestFrame = arena.allocate(MAX_FRAME_BYTES, 64);

    /**
     * Builds the gateway and joins it to {@code bridge}.
     *
     * @param name      names the gateway in counters ("nat[NAME] ...")
     * @param config    a validated configuration
     * @param hostLink  the host side in NAT mode (the gateway closes it); null in host-only mode
     * @param counters  where the gateway's counters go
     * @param clock     a nanosecond clock ({@code System::nanoTime}; tests inject their own)
     * @param dataPlane the data plane that polls the gateway, so the host link can wake it; null when polled by hand
     * @throws IllegalArgumentException if the host link does not match the mode
     */
    public NatGateway(final String name, final NatConfig config, final Bridge bridge, final HostLink hostLink,
                      final Counters counters, final LongSupplier clock, final DataPlane dataPlane) {
        if ((config.mode() == NatMode.NAT) != (hostLink != null)) {
            throw new IllegalArgumentException("nat gateway " + name + ": " + (hostLink == null
                    ? "NAT mode needs a host link" : "host-only mode takes no host link"));
        }
        this.name = name;
        this.config = config;
        this.bridge = bridge;
        this.clock = clock;
        this.dataPlane = dataPlane;
        this.counters = new NatCounters(counters, name);
        this.maxFrameBytes = config.guestMtu() + 18;
        final long seed = new SecureRandom().nextLong();
        final GuestNeighbors neighbors = new GuestNeighbors(config.guestSubnet());
        this.leases = new DhcpLeases(config.firstGuestAddress().value(), config.leasePoolSize());
        this.replies = new ReplyQueue(REPLY_QUEUE_FRAMES, Math.max(2048, maxFrameBytes), this.counters);
        this.connections = hostLink == null ? null : new ConnectionTable(config.connectionCapacity(),
                config.perGuestConnectionLimit(), config.guestSubnet(), config.timeouts(), config.forwards(), seed,
                this.counters);
        final GuestSourcePolicy sources = new GuestSourcePolicy(config, leases);
        final GatewayArp arp = new GatewayArp(config, sources, neighbors, replies, this.counters);
        final DhcpServer dhcp = new DhcpServer(config, leases, neighbors, this.counters, replies);
        this.index = bridge.join(this, config.gatewayMac().bytes());
        NatTranslator translator = null;
        HostSide host = null;
        if (hostLink != null) {
            final FragmentTable fragments = new FragmentTable(256, config.timeouts().fragmentNs(), seed ^ 0x7F4AL);
            translator = new NatTranslator(config.hostAddress(), config.forwards(), connections, fragments, neighbors, this.counters);
            host = new HostSide(config, hostLink, bridge, index, translator, arp, this.counters, MAX_FRAME_BYTES);
        }
        this.hostSide = host;
        this.guestSide = new GuestSide(config, sources, neighbors, arp, dhcp, translator, host, replies, this.counters);
    }

    /**
     * Builds the gateway for {@code config}, opening its TAP ({@link NatConfig#tapName()}) in NAT mode.
     *
     * @param log where host-link trouble is logged
     */
    public static NatGateway open(final String name, final NatConfig config, final Bridge bridge,
                                  final Counters counters, final DataPlane dataPlane, final ErrorLog log) {
        final HostLink link = config.mode() == NatMode.NAT
                ? new TapHostLink(config.tapName(), config.hostOffloads(), log) : null;
        try {
            return new NatGateway(name, config, bridge, link, counters, System::nanoTime, dataPlane);
        } catch (RuntimeException e) {
            if (link != null) {
                link.close();
            }
            throw e;
        }
    }

    /** @return the gateway's port index in the bridge */
    public int index() {
        return index;
    }

    /** @return the configuration */
    public NatConfig config() {
        return config;
    }

    /** @return the gateway's counters */
    public NatCounters counters() {
        return counters;
    }

    /**
     * @return tracked connections (some may have expired and not been swept yet; none in host-only mode);
     *     data-plane thread only
     */
    public int connectionCount() {
        return connections == null ? 0 : connections.size();
    }

    /**
     * @return the address DHCP leased to {@code mac} (bound, possibly expired), or null; data-plane thread only
     *     (or while nothing polls the gateway)
     */
    public Ipv4Address leaseOf(final MacAddress mac) {
        final int index = leases.indexOfMac(mac.value());
        return index >= 0 && leases.state(index) == DhcpLeases.BOUND ? new Ipv4Address(leases.address(index)) : null;
    }

    ConnectionTable connections() {
        return connections;
    }

    HostSide hostSide() {
        return hostSide;
    }

    /** Takes a frame the bridge sends the gateway; always consumed (drops are counted here, not by the bridge). */
    @Override
    public boolean egress(final TxFrame frame) {
        final int length = frame.lengthBytes();
        if (length < Ethernet.HEADER_BYTES) {
            counters.drop(NatDrop.FRAME_TOO_SHORT);
            return true;
        }
        if (length > MAX_FRAME_BYTES) {
            counters.drop(NatDrop.HOST_TOO_BIG);
            return true;
        }
        frame.copyTo(0, guestFrame, 0, Ethernet.HEADER_BYTES);
        if (!guestSide.wants(Wire.mac(guestFrame, Ethernet.DESTINATION))) {
            counters.drop(NatDrop.NOT_FOR_GATEWAY_MAC);
            return true;
        }
        frame.copyTo(Ethernet.HEADER_BYTES, guestFrame, Ethernet.HEADER_BYTES, length - Ethernet.HEADER_BYTES);
        guestSide.handle(guestFrame, length, frame.header(), clock.getAsLong());
        return true;
    }

    /** Writes what the guests' batch queued on the host link (the bridge calls this when the batch ends). */
    @Override
    public void flush() {
        if (hostSide != null) {
            final HostLink link = hostSide.link();
            link.flush();
            for (long refused = link.takeRefused(); refused > 0; refused--) {
                counters.drop(NatDrop.HOST_LINK_REFUSED);
            }
        }
    }

    /** Sends waiting replies into the bridge, reads a burst from the host link, ages connections. */
    @Override
    public int poll() {
        final long now = clock.getAsLong();
        int work = replies.drainInto(bridge, index);
        if (hostSide != null) {
            if (dataPlane != null) {
                hostSide.link().wakeOnFrames(dataPlane);
            }
            work += hostSide.poll(now);
            work += replies.drainInto(bridge, index);
            flush();
        }
        if (connections != null) {
            connections.expire(now, EXPIRY_BUDGET);
        }
        return work;
    }

    /** Ready unless replies wait: the host link wakes the data plane, and ageing runs on its park timeout. */
    @Override
    public boolean readyToPark() {
        return replies.isEmpty();
    }

    @Override
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    @Override
    public String name() {
        return "nat:" + name;
    }

    /** Closes the host link and frees the gateway's memory. Call after the data plane stopped polling it. */
    @Override
    public void close() {
        if (hostSide != null) {
            hostSide.link().close();
            hostSide.close();
        }
        replies.close();
        counters.close();
        arena.close();
    }
}

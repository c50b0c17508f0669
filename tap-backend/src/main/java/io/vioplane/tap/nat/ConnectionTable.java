package io.vioplane.tap.nat;

import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Prefix;
import io.vioplane.platform.packet.TcpHeader;

import java.util.Arrays;

/**
 * Connection tracking for the NAT (RFC 3022 section 2.6, with the TCP and UDP behaviour of RFC 5382 and
 * RFC 4787): one entry per flow, found from the guest side by its 5-tuple (protocol, guest address and port,
 * remote address and port) and from the host side by its mapping (protocol, host port, remote address and
 * port). ICMP echo flows use the identifier as their port on both sides and 0 as the remote port.
 *
 * <p>TCP follows a reduced Linux conntrack state machine: SYN_SENT on the initiator's SYN, SYN_RECEIVED on the
 * responder's SYN, ESTABLISHED on the initiator's ACK, FIN_WAIT after a FIN, TIME_WAIT after FINs both ways,
 * CLOSED after an RST; a new SYN from the initiator reopens a TIME_WAIT or CLOSED entry. UDP flows are
 * UNREPLIED until the remote answers. Every state has its own timeout ({@link NatTimeouts}); each state keeps
 * its entries in a list ordered by last activity, so expiry looks only at list heads.
 *
 * <p>The table is bounded twice: one guest address holds at most {@code perGuestLimit} entries (further flows
 * are refused), and when the table is full the entry idle longest is evicted, taken first from entries already
 * closing (TIME_WAIT, CLOSED), then from entries that never saw an answer (SYN_SENT, SYN_RECEIVED,
 * UDP_UNREPLIED, ICMP echo), and only then from answered ones: a flood of new flows evicts itself before
 * anyone's established connections. No allocation after construction.
 */
public final class ConnectionTable {
    static final int SYN_SENT = 0;
    static final int SYN_RECEIVED = 1;
    static final int ESTABLISHED = 2;
    static final int FIN_WAIT = 3;
    static final int TIME_WAIT = 4;
    static final int CLOSED = 5;
    static final int UDP_UNREPLIED = 6;
    static final int UDP_REPLIED = 7;
    static final int ICMP_ECHO = 8;
    private static final int STATES = 9;
    private static final int[][] EVICTION_TIERS = {
            {TIME_WAIT, CLOSED}, {SYN_SENT, SYN_RECEIVED, UDP_UNREPLIED, ICMP_ECHO},
            {FIN_WAIT, UDP_REPLIED, ESTABLISHED}};
    /** Refusals returned by the open methods. */
    static final int REFUSED_GUEST_LIMIT = -2;
    static final int REFUSED_NO_PORT = -3;
    static final int REFUSED_CLASH = -4;

    private static final int FIN_FROM_INITIATOR = 1;
    private static final int FIN_FROM_RESPONDER = 2;
    private static final int INITIATED_BY_GUEST = 4;
    private static final int REPLIED = 8;
    private static final int NONE = -1;

    private final int capacity;
    private final int perGuestLimit;
    private final Ipv4Prefix guestSubnet;
    private final NatCounters counters;
    private final long[] timeoutNs = new long[STATES];
    private final int[] protocol;
    private final int[] guestAddress;
    private final int[] guestPort;
    private final int[] remoteAddress;
    private final int[] remotePort;
    private final int[] hostPort;
    private final long[] guestMac;
    private final int[] state;
    private final int[] flags;
    private final int[] generation;
    private final long[] lastSeenNs;
    private final int[] previous;
    private final int[] next;
    private final int[] heads = new int[STATES];
    private final int[] tails = new int[STATES];
    private final int[] perGuest;
    private final FlowIndex byGuest;
    private final FlowIndex byHost;
    private final PortMappings ports;
    private int freeHead;
    private int size;

    /**
     * @param capacity      entries
     * @param perGuestLimit entries one guest address may hold
     * @param guestSubnet   the guests' network (per-guest counts are kept per address of it)
     * @param timeouts      lifetimes per state
     * @param forwards      forwarding rules whose host ports are reserved
     * @param seed          keys the hashes and the port search
     */
    public ConnectionTable(final int capacity, final int perGuestLimit, final Ipv4Prefix guestSubnet,
                    final NatTimeouts timeouts, final java.util.List<PortForward> forwards, final long seed,
                    final NatCounters counters) {
        this.capacity = capacity;
        this.perGuestLimit = perGuestLimit;
        this.guestSubnet = guestSubnet;
        this.counters = counters;
        timeoutNs[SYN_SENT] = timeouts.tcpSynSentNs();
        timeoutNs[SYN_RECEIVED] = timeouts.tcpSynReceivedNs();
        timeoutNs[ESTABLISHED] = timeouts.tcpEstablishedNs();
        timeoutNs[FIN_WAIT] = timeouts.tcpFinWaitNs();
        timeoutNs[TIME_WAIT] = timeouts.tcpTimeWaitNs();
        timeoutNs[CLOSED] = timeouts.tcpClosedNs();
        timeoutNs[UDP_UNREPLIED] = timeouts.udpUnrepliedNs();
        timeoutNs[UDP_REPLIED] = timeouts.udpRepliedNs();
        timeoutNs[ICMP_ECHO] = timeouts.icmpEchoNs();
        protocol = new int[capacity];
        guestAddress = new int[capacity];
        guestPort = new int[capacity];
        remoteAddress = new int[capacity];
        remotePort = new int[capacity];
        hostPort = new int[capacity];
        guestMac = new long[capacity];
        state = new int[capacity];
        flags = new int[capacity];
        generation = new int[capacity];
        lastSeenNs = new long[capacity];
        previous = new int[capacity];
        next = new int[capacity];
        perGuest = new int[(int) guestSubnet.size()];
        byGuest = new FlowIndex(capacity, seed);
        byHost = new FlowIndex(capacity, Long.rotateLeft(seed, 17) ^ 0x5DEE_CE66DL);
        ports = new PortMappings(capacity + forwards.size(), Long.rotateLeft(seed, 41) ^ 0xB5L);
        for (PortForward forward : forwards) {
            ports.reserve(forward.protocol().number(), forward.hostPort(), forward.guestAddress().value(),
                    forward.guestPort());
        }
        Arrays.fill(heads, NONE);
        Arrays.fill(tails, NONE);
        for (int i = 0; i < capacity; i++) {
            next[i] = i + 1 < capacity ? i + 1 : NONE;
        }
        freeHead = 0;
    }

    private static long guestHigh(final int guest, final int remote) {
        return (guest & 0xFFFF_FFFFL) << 32 | (remote & 0xFFFF_FFFFL);
    }

    private static long guestLow(final int proto, final int guestPortValue, final int remotePortValue) {
        return (long) proto << 32 | (long) guestPortValue << 16 | remotePortValue;
    }

    private static long hostHigh(final int proto, final int remote) {
        return (long) proto << 32 | (remote & 0xFFFF_FFFFL);
    }

    private static long hostLow(final int hostPortValue, final int remotePortValue) {
        return (long) hostPortValue << 16 | remotePortValue;
    }

    /** @return the live entry for a flow seen from the guest side, or -1 */
    public int findFromGuest(final int proto, final int guest, final int guestPortValue, final int remote,
                      final int remotePortValue, final long nowNs) {
        return live(byGuest.get(guestHigh(guest, remote), guestLow(proto, guestPortValue, remotePortValue)), nowNs);
    }

    /** @return the live entry for a flow seen from the host side, or -1 */
    public int findFromHost(final int proto, final int hostPortValue, final int remote, final int remotePortValue,
                     final long nowNs) {
        return live(byHost.get(hostHigh(proto, remote), hostLow(hostPortValue, remotePortValue)), nowNs);
    }

    private int live(final int entry, final long nowNs) {
        if (entry < 0) {
            return NONE;
        }
        if (nowNs - lastSeenNs[entry] >= timeoutNs[state[entry]]) {
            free(entry);
            counters.count(NatEvent.CONNECTIONS_EXPIRED);
            return NONE;
        }
        return entry;
    }

    /**
     * Opens a flow a guest starts (source NAT): maps its endpoint onto a host port.
     *
     * @param tcpFlags the first segment's flags (TCP: a SYN)
     * @return the entry, or {@link #REFUSED_GUEST_LIMIT} / {@link #REFUSED_NO_PORT}
     */
    int openFromGuest(final int proto, final int guest, final int guestPortValue, final int remote,
                      final int remotePortValue, final long mac, final int tcpFlags, final long nowNs) {
        final int refusal = admit(guest, nowNs);
        if (refusal != 0) {
            return refusal;
        }
        final int mapped = ports.acquire(proto, guest, guestPortValue);
        if (mapped < 0) {
            return REFUSED_NO_PORT;
        }
        if (findFromHost(proto, mapped, remote, remotePortValue, nowNs) >= 0) {
            ports.release(proto, mapped);
            return REFUSED_CLASH;
        }
        return insert(proto, guest, guestPortValue, remote, remotePortValue, mapped, mac, INITIATED_BY_GUEST, nowNs);
    }

    /**
     * Opens a flow arriving at a forwarded host port (destination NAT of a forwarding rule).
     *
     * @return the entry, or {@link #REFUSED_GUEST_LIMIT} / {@link #REFUSED_CLASH}
     */
    int openFromHost(final int proto, final int hostPortValue, final int remote, final int remotePortValue,
                     final int guest, final int guestPortValue, final long mac, final long nowNs) {
        if (findFromGuest(proto, guest, guestPortValue, remote, remotePortValue, nowNs) >= 0) {
            return REFUSED_CLASH;
        }
        final int refusal = admit(guest, nowNs);
        if (refusal != 0) {
            return refusal;
        }
        ports.retain(proto, hostPortValue);
        return insert(proto, guest, guestPortValue, remote, remotePortValue, hostPortValue, mac, 0, nowNs);
    }

    private int admit(final int guest, final long nowNs) {
        if (perGuest[guestSubnet.hostOffset(guest)] >= perGuestLimit) {
            expire(nowNs, 64);
            if (perGuest[guestSubnet.hostOffset(guest)] >= perGuestLimit) {
                return REFUSED_GUEST_LIMIT;
            }
        }
        if (freeHead == NONE) {
            expire(nowNs, 64);
            if (freeHead == NONE) {
                evictOne();
            }
        }
        return 0;
    }

    private int insert(final int proto, final int guest, final int guestPortValue, final int remote,
                       final int remotePortValue, final int mapped, final long mac, final int initialFlags,
                       final long nowNs) {
        final int entry = freeHead;
        freeHead = next[entry];
        protocol[entry] = proto;
        guestAddress[entry] = guest;
        guestPort[entry] = guestPortValue;
        remoteAddress[entry] = remote;
        remotePort[entry] = remotePortValue;
        hostPort[entry] = mapped;
        guestMac[entry] = mac;
        flags[entry] = initialFlags;
        lastSeenNs[entry] = nowNs;
        final int initial = switch (proto) {
            case IpProtocol.TCP -> SYN_SENT;
            case IpProtocol.UDP -> UDP_UNREPLIED;
            default -> ICMP_ECHO;
        };
        state[entry] = initial;
        append(initial, entry);
        byGuest.put(guestHigh(guest, remote), guestLow(proto, guestPortValue, remotePortValue), entry);
        byHost.put(hostHigh(proto, remote), hostLow(mapped, remotePortValue), entry);
        perGuest[guestSubnet.hostOffset(guest)]++;
        size++;
        counters.count(NatEvent.CONNECTIONS_OPENED);
        return entry;
    }

    /**
     * Records a packet of {@code entry}: refreshes its age and moves its state on.
     *
     * @param fromGuest the packet came from the guest side
     * @param tcpFlags  the TCP flags byte (0 for UDP and ICMP)
     */
    void seen(final int entry, final boolean fromGuest, final int tcpFlags, final long nowNs) {
        final boolean guestInitiated = (flags[entry] & INITIATED_BY_GUEST) != 0;
        final boolean fromInitiator = fromGuest == guestInitiated;
        if (!fromInitiator) {
            flags[entry] |= REPLIED;
        }
        final int before = state[entry];
        final int after = switch (protocol[entry]) {
            case IpProtocol.TCP -> tcpState(entry, before, fromInitiator, tcpFlags);
            case IpProtocol.UDP -> (flags[entry] & REPLIED) != 0 ? UDP_REPLIED : UDP_UNREPLIED;
            default -> ICMP_ECHO;
        };
        unlink(before, entry);
        state[entry] = after;
        lastSeenNs[entry] = nowNs;
        append(after, entry);
    }

    private int tcpState(final int entry, final int current, final boolean fromInitiator, final int tcpFlags) {
        if ((tcpFlags & TcpHeader.RST) != 0) {
            return CLOSED;
        }
        final boolean syn = (tcpFlags & TcpHeader.SYN) != 0;
        final boolean ack = (tcpFlags & TcpHeader.ACK) != 0;
        if (current == TIME_WAIT || current == CLOSED) {
            if (fromInitiator && syn && !ack) {
                flags[entry] &= ~(FIN_FROM_INITIATOR | FIN_FROM_RESPONDER | REPLIED);
                return SYN_SENT;
            }
            return current;
        }
        int updated = switch (current) {
            case SYN_SENT -> !fromInitiator && syn ? SYN_RECEIVED : SYN_SENT;
            case SYN_RECEIVED -> fromInitiator && ack && !syn ? ESTABLISHED : SYN_RECEIVED;
            default -> current;
        };
        if ((tcpFlags & TcpHeader.FIN) != 0) {
            flags[entry] |= fromInitiator ? FIN_FROM_INITIATOR : FIN_FROM_RESPONDER;
        }
        final int fins = flags[entry] & (FIN_FROM_INITIATOR | FIN_FROM_RESPONDER);
        if (fins != 0 && updated != SYN_SENT) {
            updated = fins == (FIN_FROM_INITIATOR | FIN_FROM_RESPONDER) ? TIME_WAIT : FIN_WAIT;
        }
        return updated;
    }

    /**
     * Frees entries idle beyond their state's timeout, looking at most at {@code budget} of them.
     *
     * @return entries freed
     */
    public int expire(final long nowNs, final int budget) {
        int freed = 0;
        for (int s = 0; s < STATES && freed < budget; s++) {
            while (freed < budget && heads[s] != NONE && nowNs - lastSeenNs[heads[s]] >= timeoutNs[s]) {
                free(heads[s]);
                counters.count(NatEvent.CONNECTIONS_EXPIRED);
                freed++;
            }
        }
        return freed;
    }

    private void evictOne() {
        for (int[] tier : EVICTION_TIERS) {
            int victim = NONE;
            for (int s : tier) {
                final int head = heads[s];
                if (head != NONE && (victim == NONE || lastSeenNs[head] - lastSeenNs[victim] < 0)) {
                    victim = head;
                }
            }
            if (victim != NONE) {
                free(victim);
                counters.count(NatEvent.CONNECTIONS_EVICTED);
                return;
            }
        }
    }

    private void free(final int entry) {
        unlink(state[entry], entry);
        byGuest.remove(guestHigh(guestAddress[entry], remoteAddress[entry]),
                guestLow(protocol[entry], guestPort[entry], remotePort[entry]));
        byHost.remove(hostHigh(protocol[entry], remoteAddress[entry]), hostLow(hostPort[entry], remotePort[entry]));
        ports.release(protocol[entry], hostPort[entry]);
        perGuest[guestSubnet.hostOffset(guestAddress[entry])]--;
        generation[entry]++;
        next[entry] = freeHead;
        freeHead = entry;
        size--;
    }

    private void append(final int list, final int entry) {
        previous[entry] = tails[list];
        next[entry] = NONE;
        if (tails[list] == NONE) {
            heads[list] = entry;
        } else {
            next[tails[list]] = entry;
        }
        tails[list] = entry;
    }

    private void unlink(final int list, final int entry) {
        final int before = previous[entry];
        final int after = next[entry];
        if (before == NONE) {
            heads[list] = after;
        } else {
            next[before] = after;
        }
        if (after == NONE) {
            tails[list] = before;
        } else {
            previous[after] = before;
        }
    }

    /** Updates the MAC address a flow's guest sends from (taken from its latest frame). */
    void guestMac(final int entry, final long mac) {
        guestMac[entry] = mac;
    }

    int protocol(final int entry) {
        return protocol[entry];
    }

    int guestAddress(final int entry) {
        return guestAddress[entry];
    }

    int guestPort(final int entry) {
        return guestPort[entry];
    }

    int remoteAddress(final int entry) {
        return remoteAddress[entry];
    }

    int remotePort(final int entry) {
        return remotePort[entry];
    }

    int hostPort(final int entry) {
        return hostPort[entry];
    }

    long guestMac(final int entry) {
        return guestMac[entry];
    }

    public int state(final int entry) {
        return state[entry];
    }

    int generation(final int entry) {
        return generation[entry];
    }

    /** @return true if the remote side has answered */
    boolean replied(final int entry) {
        return (flags[entry] & REPLIED) != 0;
    }

    /** @return live entries (some may have expired and not been swept yet) */
    public int size() {
        return size;
    }

    /** @return entries held by {@code guest} */
    public int sizeOf(final int guest) {
        return perGuest[guestSubnet.hostOffset(guest)];
    }

    /** @return the table's capacity */
    int capacity() {
        return capacity;
    }

    /** @return host ports mapped, forwards included */
    int portMappings() {
        return ports.mappings();
    }

    /** @return a state's name, for messages */
    public static String stateName(final int value) {
        return switch (value) {
            case SYN_SENT -> "SYN_SENT";
            case SYN_RECEIVED -> "SYN_RECEIVED";
            case ESTABLISHED -> "ESTABLISHED";
            case FIN_WAIT -> "FIN_WAIT";
            case TIME_WAIT -> "TIME_WAIT";
            case CLOSED -> "CLOSED";
            case UDP_UNREPLIED -> "UDP_UNREPLIED";
            case UDP_REPLIED -> "UDP_REPLIED";
            case ICMP_ECHO -> "ICMP_ECHO";
            default -> "state-" + value;
        };
    }
}

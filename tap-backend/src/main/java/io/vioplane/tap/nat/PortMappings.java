package io.vioplane.tap.nat;

import io.vioplane.platform.packet.IpProtocol;

/**
 * Host-side ports (and ICMP echo identifiers) the NAT maps guest endpoints onto (RFC 3022 NAPT). Mappings are
 * endpoint-independent (RFC 4787 REQ-1, RFC 5382 REQ-1): while any connection of a guest endpoint (address,
 * port) lives, every new connection from it uses the same host port, whatever its destination. A free guest
 * port in the allocation range is kept as it is (port preservation, RFC 4787 section 4.2.1); otherwise the
 * search starts at a random port. Ports of forwarding rules are reserved for their guest endpoint for good.
 *
 * <p>Each host port belongs to one guest endpoint at a time and counts the connections using it; it is free
 * again when the last one goes. Tables are allocated once (per protocol, 65536 owners and counts).
 */
public final class PortMappings {
    /** The first port handed out to TCP and UDP flows. */
    static final int FIRST_DYNAMIC_PORT = 1024;
    /** The first ICMP echo identifier handed out. */
    static final int FIRST_ICMP_IDENTIFIER = 1;
    private static final int PORTS = 65536;
    private static final long FREE = -1;
    private static final int PERMANENT = Integer.MAX_VALUE;

    private final long[] owners = new long[3 * PORTS];
    private final int[] references = new int[3 * PORTS];
    private final FlowIndex byEndpoint;
    private long random;

    /**
     * @param maxMappings the most mappings held at once (connections plus forwarding rules)
     * @param seed        seeds the random search start and the endpoint index
     */
    PortMappings(final int maxMappings, final long seed) {
        java.util.Arrays.fill(owners, FREE);
        this.byEndpoint = new FlowIndex(maxMappings, seed);
        this.random = seed | 1;
    }

    private static int table(final int protocol) {
        return switch (protocol) {
            case IpProtocol.TCP -> 0;
            case IpProtocol.UDP -> 1;
            default -> 2;
        };
    }

    private static long endpoint(final int guestAddress, final int guestPort) {
        return (guestAddress & 0xFFFF_FFFFL) << 16 | guestPort;
    }

    /**
     * Maps a guest endpoint: its existing host port, else a new one.
     *
     * @return the host port, or -1 if none is free
     */
    int acquire(final int protocol, final int guestAddress, final int guestPort) {
        final int table = table(protocol);
        final long owner = endpoint(guestAddress, guestPort);
        final int existing = byEndpoint.get((long) table << 32 | (guestAddress & 0xFFFF_FFFFL), guestPort);
        if (existing >= 0) {
            retain(protocol, existing);
            return existing;
        }
        final int first = protocol == IpProtocol.ICMP ? FIRST_ICMP_IDENTIFIER : FIRST_DYNAMIC_PORT;
        final int span = PORTS - first;
        int port = guestPort >= first && owners[table * PORTS + guestPort] == FREE ? guestPort : -1;
        if (port < 0) {
            final int start = (int) Long.remainderUnsigned(nextRandom(), span);
            for (int i = 0; i < span; i++) {
                final int candidate = first + (start + i) % span;
                if (owners[table * PORTS + candidate] == FREE) {
                    port = candidate;
                    break;
                }
            }
            if (port < 0) {
                return -1;
            }
        }
        owners[table * PORTS + port] = owner;
        references[table * PORTS + port] = 1;
        byEndpoint.put((long) table << 32 | (guestAddress & 0xFFFF_FFFFL), guestPort, port);
        return port;
    }

    /** Reserves {@code hostPort} for a forwarding rule's guest endpoint, for good. */
    void reserve(final int protocol, final int hostPort, final int guestAddress, final int guestPort) {
        final int table = table(protocol);
        owners[table * PORTS + hostPort] = endpoint(guestAddress, guestPort);
        references[table * PORTS + hostPort] = PERMANENT;
        final long high = (long) table << 32 | (guestAddress & 0xFFFF_FFFFL);
        if (byEndpoint.get(high, guestPort) < 0) {
            byEndpoint.put(high, guestPort, hostPort);
        }
    }

    /** Counts one more connection on an owned host port. */
    void retain(final int protocol, final int hostPort) {
        final int slot = table(protocol) * PORTS + hostPort;
        if (references[slot] != PERMANENT) {
            references[slot]++;
        }
    }

    /** Counts one connection less on a host port; the last one frees it. */
    void release(final int protocol, final int hostPort) {
        final int table = table(protocol);
        final int slot = table * PORTS + hostPort;
        if (references[slot] == PERMANENT || owners[slot] == FREE) {
            return;
        }
        if (--references[slot] == 0) {
            final long owner = owners[slot];
            owners[slot] = FREE;
            byEndpoint.remove((long) table << 32 | (owner >>> 16), owner & 0xFFFF);
        }
    }

    /** @return true if {@code hostPort} is mapped (or reserved) */
    boolean inUse(final int protocol, final int hostPort) {
        return owners[table(protocol) * PORTS + hostPort] != FREE;
    }

    /** @return how many mappings are held (forwards included) */
    int mappings() {
        return byEndpoint.size();
    }

    private long nextRandom() {
        random ^= random << 13;
        random ^= random >>> 7;
        random ^= random << 17;
        return random;
    }
}

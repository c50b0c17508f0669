package io.vioplane.tap.gateway;

import io.vioplane.tap.nat.NatTimeouts;

/**
 * The gateway's ARP cache on the host link (RFC 826, with the re-validation of RFC 1122 2.3.2.1): a few
 * entries, each an address with its MAC once resolved. An entry is used for {@code reachableNs} after its last
 * confirmation; after that it is still used while a new request is out, and forgotten if no answer comes within
 * {@code giveUpNs}. Requests for one address go out at most once per {@code retryNs}. Entries come only from
 * addresses the gateway asked for (an unsolicited answer about an unknown address is ignored); a full cache
 * replaces its least recently used entry, never the next hop's. At most {@link #REQUESTS_PER_RETRY} requests go
 * out per retry interval in all, so a guest sending to many on-link addresses cannot make the gateway flood the
 * host link with ARP. No allocation.
 */
final class HostNeighbors {
    /** No MAC known (yet). */
    static final long UNKNOWN = -1;
    /** ARP requests sent at most per retry interval, all addresses together. */
    static final int REQUESTS_PER_RETRY = 8;
    private final int pinned;
    private long windowStartNs = Long.MIN_VALUE / 2;
    private int requestsInWindow;
    private final int[] addresses;
    private final long[] macs;
    private final long[] confirmedNs;
    private final long[] requestedNs;
    private final long[] usedNs;
    private final boolean[] inUse;
    private final long reachableNs;
    private final long retryNs;
    private final long giveUpNs;
    private boolean requestDue;

    /**
     * @param entries addresses cached
     * @param pinned  an address whose entry is never replaced (the next hop)
     */
    HostNeighbors(final int entries, final int pinned, final NatTimeouts timeouts) {
        this.pinned = pinned;
        addresses = new int[entries];
        macs = new long[entries];
        confirmedNs = new long[entries];
        requestedNs = new long[entries];
        usedNs = new long[entries];
        inUse = new boolean[entries];
        reachableNs = timeouts.arpReachableNs();
        retryNs = timeouts.arpRetryNs();
        giveUpNs = timeouts.arpGiveUpNs();
    }

    private int find(final int address) {
        for (int i = 0; i < inUse.length; i++) {
            if (inUse[i] && addresses[i] == address) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Looks up {@code address} for sending; afterwards {@link #requestDue()} says whether the caller must send an
     * ARP request for it now.
     *
     * @return its MAC, or {@link #UNKNOWN}
     */
    long resolve(final int address, final long nowNs) {
        requestDue = false;
        int entry = find(address);
        if (entry < 0) {
            entry = replaceable();
            inUse[entry] = true;
            addresses[entry] = address;
            macs[entry] = UNKNOWN;
            requestedNs[entry] = nowNs - retryNs;
        }
        usedNs[entry] = nowNs;
        if (macs[entry] != UNKNOWN) {
            final long age = nowNs - confirmedNs[entry];
            if (age < reachableNs) {
                return macs[entry];
            }
            if (age >= reachableNs + giveUpNs) {
                macs[entry] = UNKNOWN;
            }
        }
        if (nowNs - requestedNs[entry] >= retryNs && withinBudget(nowNs)) {
            requestedNs[entry] = nowNs;
            requestDue = true;
        }
        return macs[entry];
    }

    private boolean withinBudget(final long nowNs) {
        if (nowNs - windowStartNs >= retryNs) {
            windowStartNs = nowNs;
            requestsInWindow = 0;
        }
        return requestsInWindow++ < REQUESTS_PER_RETRY;
    }

    /** @return true if the last {@link #resolve} wants an ARP request sent */
    boolean requestDue() {
        return requestDue;
    }

    /**
     * Takes an ARP sender's address and MAC: updates an entry for it (RFC 826 "merge"); creates none.
     *
     * @return true if an entry was updated
     */
    boolean learn(final int address, final long mac, final long nowNs) {
        final int entry = find(address);
        if (entry < 0) {
            return false;
        }
        macs[entry] = mac;
        confirmedNs[entry] = nowNs;
        return true;
    }

    private int replaceable() {
        int oldest = -1;
        for (int i = 0; i < inUse.length; i++) {
            if (!inUse[i]) {
                return i;
            }
            if (addresses[i] != pinned && (oldest < 0 || usedNs[i] - usedNs[oldest] < 0)) {
                oldest = i;
            }
        }
        return oldest;
    }
}

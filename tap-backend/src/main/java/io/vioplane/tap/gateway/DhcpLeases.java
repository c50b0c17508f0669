package io.vioplane.tap.gateway;

import java.util.Arrays;

/**
 * The DHCP server's address pool and bindings (RFC 2131 sections 2.2 and 4.3.1): consecutive addresses from
 * the first guest address, each FREE, OFFERED (held for a client for a short time), BOUND (leased until an
 * expiry) or DECLINED (a client found it in use; kept out of the pool for a while).
 *
 * <p>Bindings belong to the client's hardware address (chaddr, which the server requires to equal the frame's
 * source MAC): on a virtual segment the MAC is what the bridge enforces, so one guest holds one address and
 * cannot drain the pool by inventing client identifiers. An address stays associated with its last client after
 * its lease expires or is released, so the same guest gets the same address back; it goes to another client
 * only when no never-used address is left, the one expired longest first (RFC 2131 4.3.1 "the client's
 * previous address ... if available").
 */
final class DhcpLeases {
    static final int FREE = 0;
    static final int OFFERED = 1;
    static final int BOUND = 2;
    static final int DECLINED = 3;
    private static final long NO_MAC = -1;

    private final int firstAddress;
    private final int size;
    private final long[] macs;
    private final int[] states;
    private final long[] expiresNs;
    private final byte[][] clientIds;

    DhcpLeases(final int firstAddress, final int size) {
        this.firstAddress = firstAddress;
        this.size = size;
        this.macs = new long[size];
        this.states = new int[size];
        this.expiresNs = new long[size];
        this.clientIds = new byte[size][];
        Arrays.fill(macs, NO_MAC);
    }

    /** @return the pool position of {@code address}, or -1 outside the pool */
    int indexOf(final int address) {
        final long offset = (address & 0xFFFF_FFFFL) - (firstAddress & 0xFFFF_FFFFL);
        return offset >= 0 && offset < size ? (int) offset : -1;
    }

    /** @return the address at pool position {@code index} */
    int address(final int index) {
        return firstAddress + index;
    }

    /** @return the pool position associated with {@code mac}, or -1 */
    int indexOfMac(final long mac) {
        for (int i = 0; i < size; i++) {
            if (macs[i] == mac) {
                return i;
            }
        }
        return -1;
    }

    /** @return true if the address at {@code index} may be given to a client now */
    boolean available(final int index, final long nowNs) {
        return states[index] == FREE || nowNs - expiresNs[index] >= 0;
    }

    /** @return true if the address at {@code index} may be given to {@code mac} now */
    boolean availableTo(final int index, final long mac, final long nowNs) {
        if (states[index] == DECLINED) {
            return nowNs - expiresNs[index] >= 0;
        }
        return macs[index] == mac || macs[index] == NO_MAC && available(index, nowNs);
    }

    /**
     * Picks the address for a client: its own, else the one it asks for if unused, else a never-used one, else
     * the one free longest.
     *
     * @param requested the requested address (option 50), or 0
     * @return the pool position, or -1 if the pool is exhausted
     */
    int choose(final long mac, final int requested, final long nowNs) {
        final int own = indexOfMac(mac);
        if (own >= 0) {
            return own;
        }
        final int asked = requested == 0 ? -1 : indexOf(requested);
        if (asked >= 0 && availableTo(asked, mac, nowNs)) {
            return asked;
        }
        int oldest = -1;
        for (int i = 0; i < size; i++) {
            if (!available(i, nowNs)) {
                continue;
            }
            if (macs[i] == NO_MAC) {
                return i;
            }
            if (oldest < 0 || expiresNs[i] - expiresNs[oldest] < 0) {
                oldest = i;
            }
        }
        return oldest;
    }

    /** Holds the address at {@code index} for {@code mac} until {@code untilNs}. */
    void offer(final int index, final long mac, final byte[] clientId, final long untilNs) {
        associate(index, mac, clientId, OFFERED, untilNs);
    }

    /** Leases the address at {@code index} to {@code mac} until {@code untilNs}. */
    void bind(final int index, final long mac, final byte[] clientId, final long untilNs) {
        associate(index, mac, clientId, BOUND, untilNs);
    }

    private void associate(final int index, final long mac, final byte[] clientId, final int state,
                           final long untilNs) {
        final int previous = indexOfMac(mac);
        if (previous >= 0 && previous != index) {
            macs[previous] = NO_MAC;
            states[previous] = FREE;
            clientIds[previous] = null;
        }
        macs[index] = mac;
        states[index] = state;
        expiresNs[index] = untilNs;
        clientIds[index] = clientId;
    }

    /** Ends a lease or offer early; the address stays associated with its client for reuse. */
    void release(final int index, final long nowNs) {
        states[index] = FREE;
        expiresNs[index] = nowNs;
    }

    /** Takes the address out of the pool until {@code untilNs} (a client found it in use). */
    void decline(final int index, final long untilNs) {
        macs[index] = NO_MAC;
        states[index] = DECLINED;
        expiresNs[index] = untilNs;
        clientIds[index] = null;
    }

    /** @return true if {@code address} is leased to {@code mac} (an expired lease counts until reassigned) */
    boolean leasedTo(final int address, final long mac) {
        final int index = indexOf(address);
        return index >= 0 && macs[index] == mac && states[index] == BOUND;
    }

    /** @return the MAC associated with pool position {@code index}, or -1 */
    long mac(final int index) {
        return macs[index];
    }

    /** @return the state at pool position {@code index} */
    int state(final int index) {
        return states[index];
    }

    /** @return the client identifier stored at pool position {@code index}, or null */
    byte[] clientId(final int index) {
        return clientIds[index];
    }

    /** @return the pool's size */
    int size() {
        return size;
    }
}

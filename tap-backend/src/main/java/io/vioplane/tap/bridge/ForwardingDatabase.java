package io.vioplane.tap.bridge;

/**
 * The bridge's forwarding database: which port a MAC address was last seen on, forgotten after an aging time
 * (IEEE 802.1D's filtering database; Linux's default aging is 300 s).
 *
 * <p>Open addressing over a fixed power-of-two table with at most {@link #MAX_PROBES} probes per key; an
 * expired entry's slot is reused. A guest flooding random source addresses cannot grow it: when a probe window
 * is full of live entries, the address is not learned (frames to it are flooded) and the refusal is counted.
 * No allocation.
 */
public final class ForwardingDatabase {
    /** Slots examined per key. */
    public static final int MAX_PROBES = 16;
    private static final long EMPTY = -1;

    /** What {@link #learn} did. */
    public enum Learned {
        /** A new address. */
        NEW,
        /** A known address on the same port: its age was refreshed. */
        REFRESHED,
        /** A known address that moved to another port. */
        MOVED,
        /** No room: the address was not learned. */
        FULL
    }

    private final long[] macs;
    private final int[] ports;
    private final long[] lastSeenNs;
    private final int mask;
    private final int shift;
    private final long agingNs;
    private int live;
    private long refused;

    /**
     * @param capacity entries, a power of two
     * @param agingNs  how long an entry lives without being refreshed
     */
    public ForwardingDatabase(final int capacity, final long agingNs) {
        if (capacity < MAX_PROBES || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two >= " + MAX_PROBES + ": " + capacity);
        }
        this.macs = new long[capacity];
        this.ports = new int[capacity];
        this.lastSeenNs = new long[capacity];
        this.mask = capacity - 1;
        this.shift = 64 - Integer.numberOfTrailingZeros(capacity);
        this.agingNs = agingNs;
        java.util.Arrays.fill(macs, EMPTY);
    }

    private int home(final long mac) {
        return (int) ((mac * 0x9E37_79B9_7F4A_7C15L) >>> shift);
    }

    private boolean alive(final int slot, final long nowNs) {
        return macs[slot] != EMPTY && nowNs - lastSeenNs[slot] < agingNs;
    }

    /** @return the port {@code mac} was last seen on, or -1 if unknown or aged out */
    public int lookup(final long mac, final long nowNs) {
        int slot = home(mac);
        for (int probe = 0; probe < MAX_PROBES; probe++) {
            if (macs[slot] == mac) {
                return nowNs - lastSeenNs[slot] < agingNs ? ports[slot] : -1;
            }
            if (macs[slot] == EMPTY) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    /** Records that {@code mac} was seen on {@code port}. */
    public Learned learn(final long mac, final int port, final long nowNs) {
        int slot = home(mac);
        int reusable = -1;
        for (int probe = 0; probe < MAX_PROBES; probe++) {
            if (macs[slot] == mac) {
                final boolean wasAlive = alive(slot, nowNs);
                final int previous = ports[slot];
                ports[slot] = port;
                lastSeenNs[slot] = nowNs;
                if (!wasAlive) {
                    live++;
                    return Learned.NEW;
                }
                return previous == port ? Learned.REFRESHED : Learned.MOVED;
            }
            if (macs[slot] == EMPTY) {
                if (reusable < 0) {
                    reusable = slot;
                }
                break;
            }
            if (reusable < 0 && !alive(slot, nowNs)) {
                reusable = slot;
            }
            slot = (slot + 1) & mask;
        }
        if (reusable < 0) {
            refused++;
            return Learned.FULL;
        }
        if (macs[reusable] == EMPTY || !alive(reusable, nowNs)) {
            live++;
        }
        macs[reusable] = mac;
        ports[reusable] = port;
        lastSeenNs[reusable] = nowNs;
        return Learned.NEW;
    }

    /** Forgets every address learned on {@code port} (the port went away). */
    public void forgetPort(final int port) {
        for (int slot = 0; slot <= mask; slot++) {
            if (macs[slot] != EMPTY && ports[slot] == port) {
                lastSeenNs[slot] = Long.MIN_VALUE / 2;
            }
        }
    }

    /** @return addresses that could not be learned for lack of room */
    public long refused() {
        return refused;
    }

    /** @return entries learned and not known to have aged out (an upper bound: aging is lazy) */
    public int approximateSize() {
        return live;
    }
}

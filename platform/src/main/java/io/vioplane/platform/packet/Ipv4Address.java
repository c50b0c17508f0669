package io.vioplane.platform.packet;

/**
 * An IPv4 address (RFC 791 section 2.3) as a configuration value; the data path works on {@link #value()}, the
 * 32 bits in network order held in an {@code int}. Parsing accepts dotted-quad literals only: no name is ever
 * looked up.
 *
 * @param value the address, first octet in the most significant byte
 */
public record Ipv4Address(int value) {
    /** 0.0.0.0. */
    public static final Ipv4Address ANY = new Ipv4Address(0);
    /** 255.255.255.255, the limited broadcast address (RFC 919, RFC 1122 3.2.1.3). */
    public static final Ipv4Address BROADCAST = new Ipv4Address(-1);

    /** @return the address {@code a.b.c.d} */
    public static Ipv4Address of(final int a, final int b, final int c, final int d) {
        for (int octet : new int[] {a, b, c, d}) {
            if (octet < 0 || octet > 255) {
                throw new IllegalArgumentException("not an IPv4 octet: " + octet);
            }
        }
        return new Ipv4Address(a << 24 | b << 16 | c << 8 | d);
    }

    /**
     * Parses a dotted quad such as {@code 10.0.2.15}.
     *
     * @throws IllegalArgumentException if {@code text} is not four decimal octets
     */
    public static Ipv4Address parse(final String text) {
        final String[] parts = text.trim().split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address (a.b.c.d): '" + text + "'");
        }
        int value = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("not an IPv4 address (a.b.c.d): '" + text + "'");
            }
            final int octet = Integer.parseInt(part);
            if (octet > 255) {
                throw new IllegalArgumentException("IPv4 octet above 255 in '" + text + "'");
            }
            value = value << 8 | octet;
        }
        return new Ipv4Address(value);
    }

    /** @return {@code value} as a dotted quad */
    public static String format(final int value) {
        return (value >>> 24) + "." + (value >>> 16 & 0xFF) + "." + (value >>> 8 & 0xFF) + "." + (value & 0xFF);
    }

    /** @return true for 224.0.0.0/4 (RFC 5771) */
    public static boolean isMulticast(final int value) {
        return (value >>> 28) == 0xE;
    }

    /**
     * @return true for an address that may never appear as the source of a forwarded packet (RFC 1812 5.3.7):
     *     0.0.0.0/8, 127.0.0.0/8, multicast, 240.0.0.0/4 and the limited broadcast
     */
    public static boolean isMartianSource(final int value) {
        final int first = value >>> 24;
        return first == 0 || first == 127 || first >= 224;
    }

    /** @return true for a destination no router forwards (RFC 1812 5.3.7): 0/8, 127/8, 240/4, broadcast */
    public static boolean isMartianDestination(final int value) {
        final int first = value >>> 24;
        return first == 0 || first == 127 || first >= 240;
    }

    @Override
    public String toString() {
        return format(value);
    }
}

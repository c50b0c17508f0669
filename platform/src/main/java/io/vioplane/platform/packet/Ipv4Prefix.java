package io.vioplane.platform.packet;

/**
 * An IPv4 network in CIDR notation (RFC 4632 section 3.1), e.g. {@code 10.0.2.0/24}.
 *
 * @param network    the network address (no host bits set)
 * @param lengthBits the prefix length, 0..32
 */
public record Ipv4Prefix(Ipv4Address network, int lengthBits) {
    /** @throws IllegalArgumentException if the length is out of range or host bits are set */
    public Ipv4Prefix {
        if (lengthBits < 0 || lengthBits > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32: " + lengthBits);
        }
        if ((network.value() & ~mask(lengthBits)) != 0) {
            throw new IllegalArgumentException("host bits set in network " + network + "/" + lengthBits
                    + " (did you mean " + Ipv4Address.format(network.value() & mask(lengthBits)) + "/"
                    + lengthBits + "?)");
        }
    }

    /** Parses {@code a.b.c.d/n}. */
    public static Ipv4Prefix parse(final String text) {
        final int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a prefix (a.b.c.d/n): '" + text + "'");
        }
        final int length;
        try {
            length = Integer.parseInt(text.substring(slash + 1).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a prefix length in '" + text + "'");
        }
        return new Ipv4Prefix(Ipv4Address.parse(text.substring(0, slash)), length);
    }

    /** @return the prefix of {@code lengthBits} that holds {@code address} */
    public static Ipv4Prefix containing(final Ipv4Address address, final int lengthBits) {
        return new Ipv4Prefix(new Ipv4Address(address.value() & mask(lengthBits)), lengthBits);
    }

    /** @return the netmask of a prefix length, as an int */
    public static int mask(final int lengthBits) {
        return lengthBits == 0 ? 0 : -1 << (32 - lengthBits);
    }

    /** @return the netmask */
    public int mask() {
        return mask(lengthBits);
    }

    /** @return true if {@code address} is inside this network */
    public boolean contains(final int address) {
        return (address & mask()) == network.value();
    }

    /** @return the directed broadcast address (all host bits set, RFC 919) */
    public int broadcast() {
        return network.value() | ~mask();
    }

    /** @return how many addresses the prefix spans */
    public long size() {
        return 1L << (32 - lengthBits);
    }

    /** @return {@code address}'s position inside the network (its host bits) */
    public int hostOffset(final int address) {
        return address & ~mask();
    }

    /** @return true if the two networks share any address */
    public boolean overlaps(final Ipv4Prefix other) {
        final int shorter = Math.min(lengthBits, other.lengthBits);
        return (network.value() & mask(shorter)) == (other.network.value() & mask(shorter));
    }

    @Override
    public String toString() {
        return network + "/" + lengthBits;
    }
}

package io.vioplane.platform.packet;

/**
 * An IEEE 802 MAC address as a configuration value; {@link #value()} holds its 48 bits, first octet most
 * significant.
 *
 * @param value the 48-bit address
 */
public record MacAddress(long value) {
    /** @throws IllegalArgumentException if more than 48 bits are set */
    public MacAddress {
        if ((value & ~Wire.MAC_MASK) != 0) {
            throw new IllegalArgumentException("a MAC address has 48 bits: " + Long.toHexString(value));
        }
    }

    /** Parses {@code 52:55:0a:00:02:02}. */
    public static MacAddress parse(final String text) {
        final String[] parts = text.trim().split(":", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address (xx:xx:xx:xx:xx:xx): '" + text + "'");
        }
        long value = 0;
        for (String part : parts) {
            if (part.length() != 2) {
                throw new IllegalArgumentException("not a MAC address (xx:xx:xx:xx:xx:xx): '" + text + "'");
            }
            try {
                value = value << 8 | Integer.parseInt(part, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a MAC address (xx:xx:xx:xx:xx:xx): '" + text + "'");
            }
        }
        return new MacAddress(value);
    }

    /** @return the address of 6 bytes */
    public static MacAddress of(final byte[] bytes) {
        if (bytes.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes: " + bytes.length);
        }
        long value = 0;
        for (byte b : bytes) {
            value = value << 8 | (b & 0xFF);
        }
        return new MacAddress(value);
    }

    /** @return the 6 bytes */
    public byte[] bytes() {
        final byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++) {
            bytes[i] = (byte) (value >>> (40 - 8 * i));
        }
        return bytes;
    }

    /** @return true for a group (multicast or broadcast) address */
    public boolean isGroup() {
        return Wire.isGroupMac(value);
    }

    /** @return {@code value} as {@code xx:xx:xx:xx:xx:xx} */
    public static String format(final long value) {
        final StringBuilder text = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                text.append(':');
            }
            final int octet = (int) (value >>> (40 - 8 * i)) & 0xFF;
            text.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
        }
        return text.toString();
    }

    @Override
    public String toString() {
        return format(value);
    }
}

package io.vioplane.tap.nat;

import io.vioplane.platform.packet.IpProtocol;
import io.vioplane.platform.packet.Ipv4Address;

import java.util.Locale;

/**
 * A port forwarding rule (a static NAPT mapping, RFC 3022 section 2.2 and 4.1): connections arriving on the
 * gateway's host-side address at {@code hostPort} are translated to {@code guestAddress:guestPort}. Written
 * {@code tcp:HOSTPORT:GUESTIP:GUESTPORT} or {@code udp:...}.
 *
 * @param protocol     TCP or UDP
 * @param hostPort     the port on the host-side address, 1..65535
 * @param guestAddress the guest the connections go to
 * @param guestPort    the guest's port, 1..65535
 */
public record PortForward(Protocol protocol, int hostPort, Ipv4Address guestAddress, int guestPort) {
    /** The transport a rule forwards. */
    public enum Protocol {
        /** IP protocol 6. */
        TCP(IpProtocol.TCP),
        /** IP protocol 17. */
        UDP(IpProtocol.UDP);

        private final int number;

        Protocol(final int number) {
            this.number = number;
        }

        /** @return the IP protocol number */
        public int number() {
            return number;
        }
    }

    /** @throws IllegalArgumentException naming the field out of range */
    public PortForward {
        if (protocol == null || guestAddress == null) {
            throw new IllegalArgumentException("a port forward needs a protocol and a guest address");
        }
        if (hostPort < 1 || hostPort > 65535) {
            throw new IllegalArgumentException("forward host port must be 1..65535: " + hostPort);
        }
        if (guestPort < 1 || guestPort > 65535) {
            throw new IllegalArgumentException("forward guest port must be 1..65535: " + guestPort);
        }
    }

    /**
     * Parses {@code tcp:8080:10.0.2.15:80}.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code text}
     */
    public static PortForward parse(final String text) {
        final String[] parts = text.trim().split(":", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException(
                    "not a port forward (tcp|udp:HOSTPORT:GUESTIP:GUESTPORT): '" + text + "'");
        }
        final Protocol protocol = switch (parts[0].toLowerCase(Locale.ROOT)) {
            case "tcp" -> Protocol.TCP;
            case "udp" -> Protocol.UDP;
            default -> throw new IllegalArgumentException("port forward protocol must be tcp or udp: '" + text + "'");
        };
        try {
            return new PortForward(protocol, Integer.parseInt(parts[1]), Ipv4Address.parse(parts[2]),
                    Integer.parseInt(parts[3]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port forward ports must be numbers: '" + text + "'");
        }
    }

    @Override
    public String toString() {
        return protocol.name().toLowerCase(Locale.ROOT) + ":" + hostPort + ":" + guestAddress + ":" + guestPort;
    }
}

package io.vioplane.perf.peers;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * A traffic source for the TAP-to-guest direction: sends 18-byte UDP datagrams (64-byte frames on the wire) to
 * one address as fast as one thread can, for a number of seconds, and prints how many it sent. Run inside the
 * benchmark's network namespace, where the destination is a neighbour pinned behind the TAP.
 *
 * <p>Usage: {@code UdpFlood ADDRESS PORT SECONDS}
 */
public final class UdpFlood {
    private static final int PAYLOAD_BYTES = 18;

    private UdpFlood() {
    }

    /** Sends until the time is up. */
    public static void main(final String[] args) throws Exception {
        final InetSocketAddress destination = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        final long endNs = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
        final ByteBuffer payload = ByteBuffer.allocateDirect(PAYLOAD_BYTES);
        long sent = 0;
        try (DatagramChannel channel = DatagramChannel.open()) {
            channel.connect(destination);
            while ((sent & 1023) != 0 || System.nanoTime() < endNs) {
                payload.clear();
                channel.write(payload);
                sent++;
            }
        }
        System.out.println("udp-flood sent " + sent);
    }
}

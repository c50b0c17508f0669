package io.vioplane.perf.peers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The soak's traffic source on the TAP side: sends UDP datagrams of mixed sizes, round robin to several addresses
 * (neighbours pinned behind the TAP to the guests' MACs), at a paced rate, until its standard input ends; then prints
 * {@code soak-udp sent N refused M} (refused: the kernel would not send, e.g. while the TAP was down). Run inside
 * the soak's network namespace. Payloads above the MTU leave as IP fragments, so the frames on the wire range from
 * the Ethernet minimum to the MTU.
 *
 * <p>Usage: {@code SoakUdpSource PORT PACKETS_PER_SECOND PAYLOAD_BYTES[,PAYLOAD_BYTES...] ADDRESS...}
 */
public final class SoakUdpSource {
    private static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private SoakUdpSource() {
    }

    /** Sends until standard input ends. */
    public static void main(final String[] args) throws Exception {
        final int port = Integer.parseInt(args[0]);
        final long packetsPerSecond = Long.parseLong(args[1]);
        final int[] sizes = Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray();
        final InetSocketAddress[] destinations = new InetSocketAddress[args.length - 3];
        for (int i = 3; i < args.length; i++) {
            destinations[i - 3] = new InetSocketAddress(args[i], port);
        }
        final Thread watcher = Thread.ofPlatform().daemon().start(SoakUdpSource::awaitEndOfInput);
        final ByteBuffer payload = ByteBuffer.allocateDirect(Arrays.stream(sizes).max().orElse(18));
        long sent = 0;
        long refused = 0;
        final long startNs = System.nanoTime();
        try (DatagramChannel channel = DatagramChannel.open()) {
            while (watcher.isAlive()) {
                final long elapsedNs = System.nanoTime() - startNs;
                final long target = elapsedNs / TICK_NS * packetsPerSecond / 1000;
                if (sent + refused >= target) {
                    LockSupport.parkNanos(TICK_NS);
                    continue;
                }
                final long n = sent + refused;
                payload.clear().limit(sizes[(int) (n % sizes.length)]);
                try {
                    channel.send(payload, destinations[(int) (n / sizes.length % destinations.length)]);
                    sent++;
                } catch (IOException e) {
                    refused++;
                    LockSupport.parkNanos(TICK_NS);
                }
            }
        }
        System.out.println("soak-udp sent " + sent + " refused " + refused);
    }

    private static void awaitEndOfInput() {
        try {
            while (System.in.read() >= 0) {
                continue;
            }
        } catch (IOException ignored) {
            // the parent is gone: stop as well
        }
    }
}

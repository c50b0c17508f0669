package io.vioplane.peers.dpdk;

/**
 * The counters of one testpmd "Forward statistics" block: what forwarding received and sent on a port (or, for
 * the accumulated block, on all ports), as testpmd prints them when it stops forwarding.
 *
 * @param rxPackets packets forwarding received
 * @param rxDropped received packets forwarding dropped
 * @param rxTotal {@code rxPackets + rxDropped}
 * @param txPackets packets the port accepted for transmission
 * @param txDropped packets the port refused (its ring was full)
 * @param txTotal {@code txPackets + txDropped}
 */
public record PortForwardStats(long rxPackets, long rxDropped, long rxTotal, long txPackets, long txDropped,
        long txTotal) {
}

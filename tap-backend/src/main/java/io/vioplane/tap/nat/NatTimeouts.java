package io.vioplane.tap.nat;

import java.util.concurrent.TimeUnit;

/**
 * How long state lives without traffic, in nanoseconds. The defaults follow Linux conntrack
 * ({@code nf_conntrack_tcp_timeout_*}, {@code nf_conntrack_udp_timeout*}, {@code nf_conntrack_icmp_timeout})
 * scaled down where Linux is generous and never below the floors of RFC 5382 REQ-5 (established TCP at least
 * 2 h 4 min, transitory TCP at least 4 min) and RFC 4787 REQ-5 (an answered UDP mapping at least 2 min):
 *
 * <pre>
 *   TCP SYN_SENT, SYN_RECEIVED, FIN_WAIT   240 s   (Linux 120/60/120 s; RFC 5382 transitory floor)
 *   TCP ESTABLISHED                       7440 s   (Linux 5 days; RFC 5382 floor of 2 h 4 min)
 *   TCP TIME_WAIT                          120 s   (Linux, 2 MSL)
 *   TCP CLOSED (after RST)                  10 s   (Linux)
 *   UDP never answered                      30 s   (Linux)
 *   UDP answered                           180 s   (Linux "stream"; above RFC 4787's 2 min)
 *   ICMP echo                               30 s   (Linux)
 *   first-fragment tracking                 30 s   (Linux ipfrag_time)
 *   ARP entry before re-validation          60 s;  retry every 1 s; unanswered after 3 s
 *   DHCP offer held for the client          60 s
 * </pre>
 *
 * @param tcpSynSentNs     a TCP connection whose initiator sent only SYN
 * @param tcpSynReceivedNs after the responder's SYN+ACK, before the initiator's ACK
 * @param tcpEstablishedNs an established TCP connection
 * @param tcpFinWaitNs     after the first FIN
 * @param tcpTimeWaitNs    after FINs both ways
 * @param tcpClosedNs      after an RST
 * @param udpUnrepliedNs   a UDP flow that never saw an answer
 * @param udpRepliedNs     a UDP flow that saw traffic both ways
 * @param icmpEchoNs       an ICMP echo query
 * @param fragmentNs       how long a first fragment's translation is remembered for the fragments after it
 * @param arpReachableNs   how long a resolved host-side neighbour is used before it is asked again
 * @param arpRetryNs       the interval between ARP requests for an unresolved neighbour
 * @param arpGiveUpNs      how long the gateway waits for an ARP answer before dropping held frames
 * @param dhcpOfferHoldNs  how long an offered address is kept for the client it was offered to
 */
public record NatTimeouts(long tcpSynSentNs, long tcpSynReceivedNs, long tcpEstablishedNs, long tcpFinWaitNs,
                          long tcpTimeWaitNs, long tcpClosedNs, long udpUnrepliedNs, long udpRepliedNs,
                          long icmpEchoNs, long fragmentNs, long arpReachableNs, long arpRetryNs, long arpGiveUpNs,
                          long dhcpOfferHoldNs) {
    private static long seconds(final long s) {
        return TimeUnit.SECONDS.toNanos(s);
    }

    /** @return the defaults in the table above */
    public static NatTimeouts defaults() {
        return new NatTimeouts(seconds(240), seconds(240), seconds(7440), seconds(240), seconds(120), seconds(10),
                seconds(30), seconds(180), seconds(30), seconds(30), seconds(60), seconds(1), seconds(3), seconds(60));
    }

    /** @throws IllegalArgumentException naming the first timeout that is not positive */
    public void validate() {
        final long[] values = {tcpSynSentNs, tcpSynReceivedNs, tcpEstablishedNs, tcpFinWaitNs, tcpTimeWaitNs,
                tcpClosedNs, udpUnrepliedNs, udpRepliedNs, icmpEchoNs, fragmentNs, arpReachableNs, arpRetryNs,
                arpGiveUpNs, dhcpOfferHoldNs};
        final var components = NatTimeouts.class.getRecordComponents();
        for (int i = 0; i < values.length; i++) {
            if (values[i] <= 0) {
                throw new IllegalArgumentException("nat config: timeouts." + components[i].getName()
                        + " must be positive: " + values[i]);
            }
        }
    }
}

package io.vioplane.peers.dpdk;

/** A testpmd packet forwarding mode ({@code --forward-mode=...}). */
public enum ForwardMode {
    /** Sends generated packets and never reads RX. */
    TXONLY("txonly"),
    /** Receives and frees packets, sends nothing. */
    RXONLY("rxonly"),
    /** Forwards received packets unchanged to the paired port (start a loop with {@code --tx-first}). */
    IO("io"),
    /** Swaps source and destination MAC and sends the packet back. */
    MACSWAP("macswap"),
    /** Sends packets of varying flows, and receives and drops what arrives. */
    FLOWGEN("flowgen");

    private final String argument;

    ForwardMode(final String argument) {
        this.argument = argument;
    }

    /** @return the name testpmd takes after {@code --forward-mode=} */
    public String argument() {
        return argument;
    }
}

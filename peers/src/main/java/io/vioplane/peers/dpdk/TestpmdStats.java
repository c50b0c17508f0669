package io.vioplane.peers.dpdk;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The forward statistics testpmd prints when forwarding stops (on SIGINT, or {@code stop} at its prompt): one
 * "Forward statistics for port N" block per port, then an "Accumulated forward statistics for all ports" block.
 * A testpmd with no probed ports prints only the accumulated block.
 *
 * @param ports the per-port counters by port id
 * @param accumulated the counters summed over all ports
 */
public record TestpmdStats(Map<Integer, PortForwardStats> ports, PortForwardStats accumulated) {
    private static final Pattern PORT_HEADER = Pattern.compile("-+\\s*Forward statistics for port\\s+(\\d+)\\s*-+");
    private static final Pattern ACCUMULATED_HEADER =
            Pattern.compile("\\++\\s*Accumulated forward statistics for all ports\\s*\\++");
    private static final Pattern BLOCK_END = Pattern.compile("^\\s*(-{10,}|\\+{10,})\\s*$");
    private static final Pattern COUNTER = Pattern.compile("([A-Za-z][A-Za-z-]*):\\s*(\\d+)");
    private static final List<String> REQUIRED =
            List.of("RX-packets", "RX-dropped", "RX-total", "TX-packets", "TX-dropped", "TX-total");

    /** Copies {@code ports} into an unmodifiable map ordered by port id. */
    public TestpmdStats {
        ports = Collections.unmodifiableSortedMap(new TreeMap<>(ports));
    }

    /**
     * Parses the last complete set of forward statistics in a testpmd transcript.
     *
     * @throws IllegalArgumentException if the transcript holds no complete accumulated block
     */
    public static TestpmdStats parse(final String transcript) {
        final String[] lines = transcript.split("\\R");
        Map<Integer, PortForwardStats> ports = new HashMap<>();
        TestpmdStats last = null;
        int index = 0;
        while (index < lines.length) {
            final Matcher port = PORT_HEADER.matcher(lines[index]);
            if (port.find()) {
                final int end = blockEnd(lines, index + 1);
                ports.put(Integer.parseInt(port.group(1)), counters(lines, index + 1, end, port.group()));
                index = end + 1;
            } else if (ACCUMULATED_HEADER.matcher(lines[index]).find()) {
                final int end = blockEnd(lines, index + 1);
                last = new TestpmdStats(ports, counters(lines, index + 1, end, "accumulated forward statistics"));
                ports = new HashMap<>();
                index = end + 1;
            } else {
                index++;
            }
        }
        if (last == null) {
            throw new IllegalArgumentException("no complete \"Accumulated forward statistics\" block in the "
                    + "transcript");
        }
        return last;
    }

    /**
     * @return the counters of port {@code portId}
     * @throws IllegalArgumentException if testpmd printed no block for that port
     */
    public PortForwardStats port(final int portId) {
        final PortForwardStats stats = ports.get(portId);
        if (stats == null) {
            throw new IllegalArgumentException("no forward statistics for port " + portId + "; ports: "
                    + ports.keySet());
        }
        return stats;
    }

    private static int blockEnd(final String[] lines, final int from) {
        for (int i = from; i < lines.length; i++) {
            if (BLOCK_END.matcher(lines[i]).find()) {
                return i;
            }
        }
        throw new IllegalArgumentException("forward statistics block cut off (no closing rule line)");
    }

    private static PortForwardStats counters(final String[] lines, final int from, final int to, final String block) {
        final Map<String, Long> values = new HashMap<>();
        for (int i = from; i < to; i++) {
            final Matcher counter = COUNTER.matcher(lines[i]);
            while (counter.find()) {
                values.put(counter.group(1), Long.parseLong(counter.group(2)));
            }
        }
        for (String name : REQUIRED) {
            if (!values.containsKey(name)) {
                throw new IllegalArgumentException(block + ": no " + name + " counter; found " + values.keySet());
            }
        }
        return new PortForwardStats(values.get("RX-packets"), values.get("RX-dropped"), values.get("RX-total"),
                values.get("TX-packets"), values.get("TX-dropped"), values.get("TX-total"));
    }
}

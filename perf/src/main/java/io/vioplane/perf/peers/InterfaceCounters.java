package io.vioplane.perf.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A network interface's kernel counters as a process in its namespace sees them ({@code /proc/PID/net/dev}, the
 * same numbers {@code ip -s link} shows): read from outside the namespace without starting a process.
 *
 * @param rxPackets frames the kernel received on the interface (for a TAP: written into it by the back-end)
 * @param txPackets frames the kernel sent out of it (for a TAP: handed to the back-end's reads)
 * @param txDropped frames the kernel dropped on the way out (for a TAP: its queue was full)
 * @param rxDropped frames the kernel dropped on the way in (for a TAP: writes it refused, e.g. while down)
 */
record InterfaceCounters(long rxPackets, long txPackets, long txDropped, long rxDropped) {
    /**
     * @param pid           a process inside the interface's namespace
     * @param interfaceName the interface
     * @throws IllegalStateException if the namespace has no such interface
     */
    static InterfaceCounters read(final long pid, final String interfaceName) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", "dev"))) {
            final int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(interfaceName)) {
                final String[] fields = line.substring(colon + 1).trim().split("\\s+");
                return new InterfaceCounters(Long.parseLong(fields[1]), Long.parseLong(fields[9]),
                        Long.parseLong(fields[11]), Long.parseLong(fields[3]));
            }
        }
        throw new IllegalStateException("process " + pid + " sees no interface " + interfaceName);
    }
}

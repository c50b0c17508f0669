package io.vioplane.cli.nic;

import io.vioplane.e1000.E1000Counter;
import io.vioplane.e1000.E1000PciFunction;
import io.vioplane.e1000.E1000Registers;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.machine.ExitCounters;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What one e1000 on a {@link io.vioplane.vmx.machine.Machine} cost the guest: its register accesses by register
 * (each one a VM exit: BAR0 an MMIO exit, BAR1 a port I/O exit) and, over the data path, the machine's exits by
 * reason per frame moved. The data path opens at the TDT write that sends the device's first frame (8254x SDM
 * 3.3.1) and lasts to the end of the run; it includes that write and its exit.
 *
 * <p>Counting is two array increments per access; the data path's opening copies the arrays and the exit counts
 * once. Called on the vCPU thread (and {@link #report} after the run), under the device's lock.
 */
final class E1000Accounting {
    private static final int REGISTERS = E1000Registers.MMIO_BYTES / 4;
    /** Registers named in reports; others print as their offset. */
    private static final Map<Integer, String> NAMES = names();

    private final CounterSet<E1000Counter> device;
    private final ExitCounters exits;
    private final long[] reads = new long[REGISTERS];
    private final long[] writes = new long[REGISTERS];
    private long ioAccesses;
    private boolean dataPath;
    private long[] readsAtOpening;
    private long[] writesAtOpening;
    private long ioAccessesAtOpening;
    private Map<Integer, Long> exitsAtOpening;
    private long receivedAtOpening;

    E1000Accounting(final CounterSet<E1000Counter> device, final ExitCounters exits) {
        this.device = device;
        this.exits = exits;
    }

    private static Map<Integer, String> names() {
        final Map<Integer, String> names = new LinkedHashMap<>();
        names.put(E1000Registers.CTRL, "CTRL");
        names.put(E1000Registers.STATUS, "STATUS");
        names.put(E1000Registers.EERD, "EERD");
        names.put(E1000Registers.ICR, "ICR");
        names.put(E1000Registers.ICS, "ICS");
        names.put(E1000Registers.IMS, "IMS");
        names.put(E1000Registers.IMC, "IMC");
        names.put(E1000Registers.RDH, "RDH");
        names.put(E1000Registers.RDT, "RDT");
        names.put(E1000Registers.TDH, "TDH");
        names.put(E1000Registers.TDT, "TDT");
        names.put(E1000Registers.GPRC, "GPRC");
        names.put(E1000Registers.GPTC, "GPTC");
        return names;
    }

    /** Counts a read at {@code offset} of {@code bar}. */
    void read(final int bar, final long offset) {
        if (bar == E1000PciFunction.MMIO_BAR && offset >= 0 && offset < E1000Registers.MMIO_BYTES) {
            reads[(int) offset >>> 2]++;
        } else {
            ioAccesses++;
        }
    }

    /**
     * Counts a write, and before a TDT write while no frame was sent yet, takes the data path's opening figures.
     *
     * @return whether this write may open the data path ({@link #afterWrite} decides)
     */
    boolean beforeWrite(final int bar, final long offset) {
        final boolean mmio = bar == E1000PciFunction.MMIO_BAR && offset >= 0 && offset < E1000Registers.MMIO_BYTES;
        final boolean opens = !dataPath && mmio && ((int) offset & ~3) == E1000Registers.TDT
                && device.get(E1000Counter.TX_FRAMES) == 0;
        if (opens) {
            readsAtOpening = reads.clone();
            writesAtOpening = writes.clone();
            ioAccessesAtOpening = ioAccesses;
            exitsAtOpening = exits.exitsByReason();
            receivedAtOpening = device.get(E1000Counter.RX_FRAMES);
        }
        if (mmio) {
            writes[(int) offset >>> 2]++;
        } else {
            ioAccesses++;
        }
        return opens;
    }

    /**
     * Opens the data path if the write {@link #beforeWrite} flagged sent a frame.
     *
     * @param exitReason the basic reason of the write's own exit, counted before the write reached the device
     */
    void afterWrite(final boolean opens, final int exitReason) {
        if (!opens) {
            return;
        }
        if (device.get(E1000Counter.TX_FRAMES) == 0) {
            readsAtOpening = null;
            writesAtOpening = null;
            exitsAtOpening = null;
            return;
        }
        dataPath = true;
        exitsAtOpening.merge(exitReason, -1L, Long::sum);
    }

    /** @return the run's figures; call once the run ended */
    Report report() {
        final long sent = device.get(E1000Counter.TX_FRAMES);
        final long received = device.get(E1000Counter.RX_FRAMES);
        final long interrupts = device.get(E1000Counter.INTERRUPTS);
        if (!dataPath) {
            return new Report(sent, received, interrupts, 0, 0, Map.of(), Map.of(), Map.of());
        }
        final Map<Integer, Long> exitsNow = exits.exitsByReason();
        final Map<Integer, Long> windowExits = new LinkedHashMap<>();
        for (Map.Entry<Integer, Long> entry : exitsNow.entrySet()) {
            final long delta = entry.getValue() - exitsAtOpening.getOrDefault(entry.getKey(), 0L);
            if (delta != 0) {
                windowExits.put(entry.getKey(), delta);
            }
        }
        return new Report(sent, received, interrupts, sent + received - receivedAtOpening,
                ioAccesses - ioAccessesAtOpening, byRegister(writes, writesAtOpening),
                byRegister(reads, readsAtOpening), windowExits);
    }

    private static Map<String, Long> byRegister(final long[] now, final long[] atOpening) {
        final Map<String, Long> result = new LinkedHashMap<>();
        for (int index = 0; index < REGISTERS; index++) {
            final long delta = now[index] - atOpening[index];
            if (delta != 0) {
                result.put(NAMES.getOrDefault(index << 2, String.format(Locale.ROOT, "0x%05x", index << 2)), delta);
            }
        }
        return result;
    }

    /**
     * The run's figures.
     *
     * @param framesSent       frames the device transmitted (the model's count; the guest's GPTC reads and clears)
     * @param framesReceived   frames it wrote into the guest's receive ring
     * @param interrupts       times it asserted INTA#
     * @param dataPathFrames   frames sent and received from the data path's opening on (0: no frame was sent)
     * @param dataPathIo       BAR1 (IOADDR/IODATA) accesses on the data path
     * @param dataPathWrites   BAR0 writes on the data path by register
     * @param dataPathReads    BAR0 reads on the data path by register
     * @param dataPathExits    the machine's VM exits on the data path by basic reason (every device's)
     */
    public record Report(long framesSent, long framesReceived, long interrupts, long dataPathFrames,
                         long dataPathIo, Map<String, Long> dataPathWrites, Map<String, Long> dataPathReads,
                         Map<Integer, Long> dataPathExits) {
        /** @return register accesses (VM exits the e1000 caused) on the data path */
        public long dataPathAccesses() {
            return dataPathIo + dataPathWrites.values().stream().mapToLong(Long::longValue).sum()
                    + dataPathReads.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Prints the figures under {@code vioplane run}'s exit table. */
        public void print(final String device, final PrintStream out) {
            out.printf(Locale.ROOT, "%s: frames sent %d, received %d; INTA# asserted %d times%n", device,
                    framesSent, framesReceived, interrupts);
            if (dataPathFrames == 0) {
                out.println("  no data path: the device sent no frame");
                return;
            }
            final long accesses = dataPathAccesses();
            final long allExits = dataPathExits.values().stream().mapToLong(Long::longValue).sum();
            out.printf(Locale.ROOT, "  data path (from the first frame sent): %d frames, %d e1000 register"
                    + " accesses = %.2f per frame, %d VM exits in all = %.2f per frame%n", dataPathFrames, accesses,
                    (double) accesses / dataPathFrames, allExits, (double) allExits / dataPathFrames);
            out.println("    e1000 writes: " + perFrame(dataPathWrites));
            out.println("    e1000 reads:  " + (dataPathReads.isEmpty() ? "none" : perFrame(dataPathReads)));
            if (dataPathIo != 0) {
                out.println("    e1000 I/O BAR accesses: " + dataPathIo);
            }
            final Map<String, Long> byReason = new LinkedHashMap<>();
            dataPathExits.forEach((reason, count) -> byReason.put(reason < 0 ? "other" : ExitReason.name(reason),
                    count));
            out.println("    VM exits by reason: " + perFrame(byReason));
        }

        private String perFrame(final Map<String, Long> counts) {
            final StringBuilder text = new StringBuilder();
            counts.forEach((name, count) -> text.append(text.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT,
                    "%s %d (%.2f/frame)", name, count, (double) count / dataPathFrames)));
            return text.toString();
        }
    }
}

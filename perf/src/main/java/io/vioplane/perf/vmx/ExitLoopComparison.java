package io.vioplane.perf.vmx;

import io.vioplane.perf.ResultTable;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.kvm.KvmBackend;
import io.vioplane.vmx.kvm.KvmVcpu;
import io.vioplane.vmx.loader.ElfImage;
import io.vioplane.vmx.loader.ImageLoader;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.machine.AddressRange;
import io.vioplane.vmx.machine.DebugDevice;
import io.vioplane.vmx.machine.ExitCounters;
import io.vioplane.vmx.machine.Machine;
import io.vioplane.vmx.machine.RunOutcome;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.vcpu.Vcpu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The exit-loop comparison (issue 11, performance): the exit_loop guest on vioplane's {@link Machine} with
 * {@link KvmBackend}, and on the C reference VMM minivmm, alternately in one process run, {@code reps} times each
 * (after three unreported warm-up runs of each). Every run is a fresh VM that runs {@code rounds} rounds of
 * {@code writes} MMIO writes (each a full exit round trip to the VMM's handler), {@code writes} ioeventfd-served
 * writes and {@code writes} interrupt round trips (ioeventfd kick, notifier thread, irqfd MSI, guest handler and
 * EOI: {@link IrqfdResponder}); round 0 is a warm-up, the run's figure is the median of the other rounds. Printed:
 * ns per operation of each VMM, the Java/C ratio per repetition (median and range), and exits per operation from
 * KVM's statistics ({@code exits}, {@code mmio_exits}) next to the VMM's own MMIO exit counter.
 *
 * <p>A plain timed runner, not JMH: the unit measured is one guest loop of thousands of VM exits timed by the VMM
 * at the guest's BEGIN and END writes, not a Java method; the guest drives the loop, so a JMH method could only
 * time the same loop from outside, and the C VMM has to run alternately in the same process run anyway.
 *
 * <p>usage: {@code ExitLoopComparison GUEST.elf MINIVMM REPS ROUNDS WRITES}
 */
public final class ExitLoopComparison {
    private static final long MEMORY_BYTES = 64L << 20;
    private static final String[] PHASES = {"mmio", "ioeventfd", "irqfd"};
    /** Unreported runs of each VMM first: the JIT compiles the Java exit path during these. */
    private static final int WARM_UPS = 3;

    private ExitLoopComparison() {
    }

    /** One run's figures per phase: ns/write (median over rounds 1..), and exits per write summed over them. */
    record RunFigures(double[] nsPerWrite, double[] kvmExitsPerWrite, double[] kvmMmioExitsPerWrite,
                      double[] vmmMmioExitsPerWrite, double[] bestNsPerWrite) {
        static RunFigures of(final long[][][] rounds, final int writes) {
            final int phases = rounds[0].length;
            final double[][] out = new double[5][phases];
            for (int phase = 0; phase < phases; phase++) {
                final double[] ns = new double[rounds.length - 1];
                final long[] sums = new long[4];
                for (int round = 1; round < rounds.length; round++) {
                    ns[round - 1] = (double) rounds[round][phase][ExitLoopDevice.NS] / writes;
                    for (int k = 1; k < 4; k++) {
                        sums[k] += rounds[round][phase][k];
                    }
                }
                out[0][phase] = median(ns);
                out[4][phase] = Arrays.stream(ns).min().orElse(Double.NaN);
                for (int k = 1; k < 4; k++) {
                    out[k][phase] = (double) sums[k] / ((long) writes * (rounds.length - 1));
                }
            }
            return new RunFigures(out[0], out[1], out[2], out[3], out[4]);
        }
    }

    public static void main(final String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: ExitLoopComparison GUEST.elf MINIVMM REPS ROUNDS WRITES");
            System.exit(2);
        }
        final Path guest = Path.of(args[0]);
        final Path minivmm = Path.of(args[1]);
        final int reps = Integer.parseInt(args[2]);
        final int rounds = Integer.parseInt(args[3]);
        final int writes = Integer.parseInt(args[4]);
        if (!Files.isRegularFile(guest) || !Files.isExecutable(minivmm) || rounds < 2) {
            throw new IllegalArgumentException("need " + guest + ", an executable " + minivmm + " and ROUNDS >= 2");
        }
        final Report report = measure(guest, minivmm, reps, rounds, writes, System.out::println);
        final List<RunFigures> java = report.java();
        final List<RunFigures> c = report.c();
        final List<RunFigures> bare = report.bare();
        System.out.printf(Locale.ROOT, "exit-loop: %d reps x %d rounds (round 0 dropped) x %d writes, guest %s%n",
                reps, rounds, writes, guest.getFileName());
        for (int phase = 0; phase < ExitLoopDevice.PHASES; phase++) {
            final int p = phase;
            final double[] jns = java.stream().mapToDouble(f -> f.nsPerWrite[p]).toArray();
            final double[] cns = c.stream().mapToDouble(f -> f.nsPerWrite[p]).toArray();
            final double[] ratio = new double[jns.length];
            for (int i = 0; i < ratio.length; i++) {
                ratio[i] = jns[i] / cns[i];
            }
            System.out.printf(Locale.ROOT, "%-9s ns/write java median %.0f [%.0f..%.0f]  c median %.0f [%.0f..%.0f]  "
                    + "java/c median %.3f [%.3f..%.3f]%n", PHASES[phase], median(jns), min(jns), max(jns),
                    median(cns), min(cns), max(cns), median(ratio), min(ratio), max(ratio));
            final double[] bns = bare.stream().mapToDouble(f -> f.nsPerWrite[p]).toArray();
            final double[] bareRatio = new double[bns.length];
            for (int i = 0; i < bns.length; i++) {
                bareRatio[i] = bns[i] / cns[i];
            }
            System.out.printf(Locale.ROOT, "%-9s ns/write java KvmVcpu loop without Machine median %.0f [%.0f..%.0f]  "
                    + "/c median %.3f [%.3f..%.3f]%n", PHASES[phase], median(bns), min(bns), max(bns),
                    median(bareRatio), min(bareRatio), max(bareRatio));
            final double jBest = min(java.stream().mapToDouble(f -> f.bestNsPerWrite[p]).toArray());
            final double cBest = min(c.stream().mapToDouble(f -> f.bestNsPerWrite[p]).toArray());
            System.out.printf(Locale.ROOT, "%-9s best round ns/write java %.0f c %.0f java/c %.3f%n", PHASES[phase],
                    jBest, cBest, jBest / cBest);
            if (phase == 1) {
                final double[] userspace = new double[jns.length];
                final double[] cUserspace = new double[jns.length];
                for (int i = 0; i < jns.length; i++) {
                    userspace[i] = java.get(i).nsPerWrite[0] - jns[i];
                    cUserspace[i] = c.get(i).nsPerWrite[0] - cns[i];
                }
                System.out.printf(Locale.ROOT, "mmio minus ioeventfd (the VMM's share: KVM_RUN return, decode, "
                        + "handler, re-entry) java median %.0f [%.0f..%.0f] c median %.0f [%.0f..%.0f]%n",
                        median(userspace), min(userspace), max(userspace), median(cUserspace), min(cUserspace),
                        max(cUserspace));
            }
            for (String vmm : new String[] {"java", "c"}) {
                final List<RunFigures> runs = vmm.equals("java") ? java : c;
                System.out.printf(Locale.ROOT, "%-9s exits/write %-4s: KVM exits %.4f, KVM mmio_exits %.4f, VMM mmio "
                        + "exits %.4f (median over reps)%n", PHASES[phase], vmm,
                        median(runs.stream().mapToDouble(f -> f.kvmExitsPerWrite[p]).toArray()),
                        median(runs.stream().mapToDouble(f -> f.kvmMmioExitsPerWrite[p]).toArray()),
                        median(runs.stream().mapToDouble(f -> f.vmmMmioExitsPerWrite[p]).toArray()));
            }
        }
    }


    /** Every repetition's figures of one comparison run, in order: Machine, minivmm, and KvmVcpu without Machine. */
    public record Report(int reps, int rounds, int writes, List<RunFigures> java, List<RunFigures> c,
                         List<RunFigures> bare) {
    }

    /**
     * Runs the comparison: three unreported warm-up repetitions, then {@code reps}, each a Java run and a C run in
     * alternating order and a run of KvmVcpu without Machine; {@code log} gets one line per VMM run.
     *
     * @throws IllegalArgumentException unless {@code guest} is a file, {@code minivmm} executable and rounds >= 2
     */
    public static Report measure(final Path guest, final Path minivmm, final int reps, final int rounds,
                                 final int writes, final Consumer<String> log) throws IOException, InterruptedException {
        if (!Files.isRegularFile(guest) || !Files.isExecutable(minivmm) || rounds < 2) {
            throw new IllegalArgumentException("need " + guest + ", an executable " + minivmm + " and ROUNDS >= 2");
        }
        final ElfImage image = ImageLoader.read(guest);
        final List<RunFigures> java = new ArrayList<>();
        final List<RunFigures> c = new ArrayList<>();
        final List<RunFigures> bare = new ArrayList<>();
        for (int rep = 1 - WARM_UPS; rep <= reps; rep++) {
            final boolean cFirst = rep % 2 == 0;
            final RunFigures first = cFirst ? runC(minivmm, guest, rounds, writes) : runJava(image, rounds, writes);
            final RunFigures second = cFirst ? runJava(image, rounds, writes) : runC(minivmm, guest, rounds, writes);
            final RunFigures j = cFirst ? second : first;
            final RunFigures n = cFirst ? first : second;
            log.accept(String.format(Locale.ROOT, "%s %d: mmio java %.0f ns c %.0f ns ratio %.3f | ioeventfd java %.0f"
                    + " ns c %.0f ns ratio %.3f | irqfd java %.0f ns c %.0f ns ratio %.3f", rep <= 0 ? "warm-up" : "rep",
                    rep, j.nsPerWrite[0], n.nsPerWrite[0], j.nsPerWrite[0] / n.nsPerWrite[0], j.nsPerWrite[1],
                    n.nsPerWrite[1], j.nsPerWrite[1] / n.nsPerWrite[1], j.nsPerWrite[2], n.nsPerWrite[2],
                    j.nsPerWrite[2] / n.nsPerWrite[2]));
            final RunFigures b = runJavaBare(image, rounds, writes);
            log.accept(String.format(Locale.ROOT, "%s %d: java KvmVcpu loop without Machine: mmio %.0f ns ratio to c"
                    + " %.3f | ioeventfd %.0f ns | irqfd %.0f ns", rep <= 0 ? "warm-up" : "rep", rep,
                    b.nsPerWrite[0], b.nsPerWrite[0] / n.nsPerWrite[0], b.nsPerWrite[1], b.nsPerWrite[2]));
            if (rep > 0) {
                java.add(j);
                c.add(n);
                bare.add(b);
            }
        }
        return new Report(reps, rounds, writes, List.copyOf(java), List.copyOf(c), List.copyOf(bare));
    }

    /**
     * @return the comparison as a bench table: per operation, ns on vioplane's Machine and on minivmm (medians of
     *         the repetitions with ranges), Java/C (median and range of the per-repetition ratios; goal <= 1.05) and
     *         KVM's exits per operation for each VMM
     */
    public static ResultTable table(final Report report) {
        final ResultTable table = new ResultTable("exits", "VM exit round trips: vioplane's Machine vs minivmm (C)")
                .note(String.format(Locale.ROOT, "exit_loop guest, %d rep(s) x %d rounds (round 0 dropped) x %d"
                        + " operations, VMMs alternating; ns per operation, lower is better; java/c goal <= 1.05;"
                        + " exits/op from KVM's own statistics", report.reps(), report.rounds(), report.writes()))
                .column("operation", false).column("vmm", false).column("median", true).column("range", true)
                .column("java/c", true).column("java/c range", true).column("KVM exits/op", true);
        final String[] what = {"MMIO write to a VMM handler", "ioeventfd-served write", "irqfd interrupt round trip"};
        for (int phase = 0; phase < ExitLoopDevice.PHASES; phase++) {
            final int p = phase;
            final double[] jns = report.java().stream().mapToDouble(f -> f.nsPerWrite[p]).toArray();
            final double[] cns = report.c().stream().mapToDouble(f -> f.nsPerWrite[p]).toArray();
            final double[] ratio = new double[jns.length];
            for (int i = 0; i < ratio.length; i++) {
                ratio[i] = jns[i] / cns[i];
            }
            table.row(ResultTable.Cell.text(what[phase]), ResultTable.Cell.text("vioplane Machine (Java)"),
                    ResultTable.Cell.number(median(jns) / 1e3, "us"),
                    ResultTable.Cell.range(min(jns) / 1e3, max(jns) / 1e3, "us"),
                    ResultTable.Cell.number(median(ratio), ""), ResultTable.Cell.range(min(ratio), max(ratio), ""),
                    ResultTable.Cell.number(median(report.java().stream().mapToDouble(f -> f.kvmExitsPerWrite[p])
                            .toArray()), ""));
            table.row(ResultTable.Cell.text(""), ResultTable.Cell.text("minivmm (C)"),
                    ResultTable.Cell.number(median(cns) / 1e3, "us"),
                    ResultTable.Cell.range(min(cns) / 1e3, max(cns) / 1e3, "us"), ResultTable.Cell.text(""),
                    ResultTable.Cell.text(""),
                    ResultTable.Cell.number(median(report.c().stream().mapToDouble(f -> f.kvmExitsPerWrite[p])
                            .toArray()), ""));
            table.checkAgreement(PHASES[phase] + " java", jns);
            table.checkAgreement(PHASES[phase] + " c", cns);
        }
        return table;
    }

    static RunFigures runJava(final ElfImage image, final int rounds, final int writes) {
        final KvmBackend kvm = new KvmBackend();
        final Counters counters = Counters.inMemory(128);
        final EventFd doorbell = EventFd.create(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK);
        final IrqfdResponder[] responder = new IrqfdResponder[1];
        final VcpuBackend backend = new VcpuBackend() {
            @Override
            public Vcpu createVcpu(final GuestMemory memory) {
                final Vcpu vcpu = kvm.createVcpu(memory);
                kvm.vm().assignIoEventFd(ExitLoopDevice.IOEVENTFD_GPA, 4, doorbell.fd(), false, null);
                responder[0] = new IrqfdResponder(kvm.vm());
                return vcpu;
            }

            @Override
            public int guestRing() {
                return kvm.guestRing();
            }

            @Override
            public void close() {
                if (responder[0] != null) {
                    responder[0].checkHealthy();
                    responder[0].close();
                }
                kvm.close();
            }
        };
        final List<String> console = new ArrayList<>();
        try (doorbell; Machine machine = new Machine("exit_loop", MEMORY_BYTES, backend, counters, console::add,
                ErrorLog.printingTo(console::add), Duration.ofSeconds(600))) {
            final ExitLoopDevice device = new ExitLoopDevice(rounds, writes, true, () -> kvm.statistic("exits"),
                    () -> kvm.statistic("mmio_exits"), () -> machine.counters().exits(ExitReason.EPT_VIOLATION));
            machine.mmio().register(new AddressRange(ExitLoopDevice.GPA, ExitLoopDevice.SIZE_BYTES, "bench device"),
                    device);
            final BootCpuState boot = ImageLoader.load(image, machine.memory(), machine.guestRing());
            final RunOutcome outcome = machine.run(boot, MEMORY_BYTES);
            if (outcome.ending() != RunOutcome.Ending.GUEST_EXIT || outcome.exitStatus() != 0) {
                throw new IllegalStateException("java run: " + outcome.message() + "\n" + String.join("\n", console));
            }
            final long[][][] figures = new long[rounds][][];
            for (int round = 0; round < rounds; round++) {
                figures[round] = new long[][] {device.result(round, 0), device.result(round, 1),
                    device.result(round, 2)};
            }
            return RunFigures.of(figures, writes);
        }
    }

    /**
     * The same guest on {@link KvmVcpu} alone, without {@link Machine}: a loop of {@code vcpu.run()} and a
     * two-way address check, no watchdog, no exit counters, no bus lookup. Splits the Java VMM's cost between the
     * vCPU layer (FFM KVM_RUN, exit decoding) and the machine's dispatch.
     */
    static RunFigures runJavaBare(final ElfImage image, final int rounds, final int writes) {
        final KvmBackend kvm = new KvmBackend();
        final Counters counters = Counters.inMemory(128);
        final long[] mmioExits = new long[1];
        try (GuestMemory memory = GuestMemory.ofMemFd(Machine.RAM_GPA, MEMORY_BYTES);
             EventFd doorbell = EventFd.create(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK);
             ExitCounters exitCounters = new ExitCounters(counters, "exit_loop-bare");
             kvm) {
            final DebugDevice debug = new DebugDevice(memory, line -> { }, exitCounters);
            final ExitLoopDevice device = new ExitLoopDevice(rounds, writes, true, () -> kvm.statistic("exits"),
                    () -> kvm.statistic("mmio_exits"), () -> mmioExits[0]);
            final BootCpuState boot = ImageLoader.load(image, memory, kvm.guestRing());
            try (Vcpu vcpu = kvm.createVcpu(memory);
                 IrqfdResponder responder = new IrqfdResponder(kvm.vm())) {
                kvm.vm().assignIoEventFd(ExitLoopDevice.IOEVENTFD_GPA, 4, doorbell.fd(), false, null);
                vcpu.load(boot, MEMORY_BYTES);
                while (!debug.exitRequested()) {
                    final VmExit exit = vcpu.run();
                    if (exit.reason() != ExitReason.EPT_VIOLATION) {
                        throw new IllegalStateException("bare run: " + exit.describe());
                    }
                    responder.checkHealthy();
                    mmioExits[0]++;
                    final long gpa = exit.accessAddress();
                    final boolean bench = gpa - ExitLoopDevice.GPA < ExitLoopDevice.SIZE_BYTES && gpa >= ExitLoopDevice.GPA;
                    final long offset = gpa - (bench ? ExitLoopDevice.GPA : DebugDevice.GPA);
                    if (exit.accessWrite()) {
                        if (bench) {
                            device.write(offset, exit.accessSizeBytes(), exit.accessValue());
                        } else {
                            debug.write(offset, exit.accessSizeBytes(), exit.accessValue());
                        }
                    } else {
                        vcpu.completeRead(bench ? device.read(offset, exit.accessSizeBytes())
                                : debug.read(offset, exit.accessSizeBytes()));
                    }
                }
            }
            if (debug.exitStatus() != 0) {
                throw new IllegalStateException("bare run: guest exit status " + debug.exitStatus());
            }
            final long[][][] figures = new long[rounds][][];
            for (int round = 0; round < rounds; round++) {
                figures[round] = new long[][] {device.result(round, 0), device.result(round, 1),
                    device.result(round, 2)};
            }
            return RunFigures.of(figures, writes);
        }
    }

    static RunFigures runC(final Path minivmm, final Path guest, final int rounds, final int writes)
            throws IOException, InterruptedException {
        final Process process = new ProcessBuilder(minivmm.toString(), guest.toString(), Integer.toString(rounds),
                Integer.toString(writes), Long.toString(MEMORY_BYTES >> 20)).redirectErrorStream(true).start();
        final long[][][] figures = new long[rounds][ExitLoopDevice.PHASES][4];
        final List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lines.add(line);
                if (!line.startsWith("phase=")) {
                    continue;
                }
                final Map<String, String> fields = new HashMap<>();
                for (String field : line.split(" ")) {
                    final int eq = field.indexOf('=');
                    fields.put(field.substring(0, eq), field.substring(eq + 1));
                }
                final int phase = Arrays.asList(PHASES).indexOf(fields.get("phase"));
                if (phase < 0) {
                    throw new IllegalStateException("minivmm printed an unknown phase: " + line);
                }
                final long[] r = figures[Integer.parseInt(fields.get("round"))][phase];
                r[ExitLoopDevice.NS] = Long.parseLong(fields.get("ns"));
                r[ExitLoopDevice.KVM_EXITS] = Long.parseLong(fields.get("kvm_exits"));
                r[ExitLoopDevice.KVM_MMIO_EXITS] = Long.parseLong(fields.get("kvm_mmio_exits"));
                r[ExitLoopDevice.VMM_MMIO_EXITS] = Long.parseLong(fields.get("vmm_mmio_exits"));
            }
        }
        if (process.waitFor() != 0) {
            throw new IllegalStateException("minivmm exited with " + process.exitValue() + ":\n"
                    + String.join("\n", lines));
        }
        return RunFigures.of(figures, writes);
    }

    static double median(final double[] values) {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        final int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double min(final double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    private static double max(final double[] values) {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }
}

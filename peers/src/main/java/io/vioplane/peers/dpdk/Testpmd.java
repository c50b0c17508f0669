package io.vioplane.peers.dpdk;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * One DPDK {@code dpdk-testpmd} process, run non-interactively ({@code -a}: forwarding starts by itself) as a
 * peer for tests and benchmarks: DPDK's virtio-user front-end against a vhost-user back-end, or DPDK's own
 * vhost back-end as the reference.
 *
 * <p>{@link #start()} launches it under {@code stdbuf -oL} (line-buffered output on the pipe) and, when
 * pinned, {@code taskset}; both exec, so {@link #pid()} is testpmd's own. Its standard output and error are
 * kept as one {@link Transcript}. {@link #stop()} sends SIGINT to that pid only, after which testpmd stops
 * forwarding, prints its forward statistics and exits; if it does not exit within the grace period it gets
 * SIGKILL. Its standard input stays open: testpmd without {@code --stats-period} waits on it ("Press enter to
 * exit") and would exit at its end. The DPDK runtime directory of its unique {@code --file-prefix} is removed
 * whenever the process ends here, and a shutdown hook kills and cleans up any instance a test failed to close.
 */
public final class Testpmd implements AutoCloseable {
    /**
     * Printed once forwarding runs on at least one port, e.g. {@code txonly packet forwarding - ports=1 - ...}.
     * (A front-end whose back-end never answered starts forwarding with {@code ports=0} instead.)
     */
    public static final String FORWARDING_STARTED = "packet forwarding - ports=[1-9]";
    /** Printed by DPDK's vhost back-end when a front-end has set up its rings and set DRIVER_OK. */
    public static final String VHOST_DEVICE_READY = "virtio is now ready for processing";

    private static final long END_OF_OUTPUT_TIMEOUT_MS = 5_000;
    private static final long KILL_WAIT_MS = 10_000;
    private static final int TAIL_LINES = 40;
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<Testpmd> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Testpmd::killAndCleanUp)));
    }

    private final String name;
    private final String filePrefix;
    private final Path runtimeDir;
    private final List<String> commandLine;
    private final long stopGraceMs;
    private volatile Process process;
    private volatile Transcript transcript;
    private boolean stopped;

    private Testpmd(final Builder builder, final String filePrefix) {
        this.name = builder.name;
        this.filePrefix = filePrefix;
        this.runtimeDir = DpdkRuntimeDir.of(filePrefix);
        this.commandLine = builder.commandLine(filePrefix);
        this.stopGraceMs = builder.stopGraceMs;
    }

    /** Sends SIGINT to {@code pid} (testpmd then prints its statistics and exits). */
    private static void signalInterrupt(final long pid) {
        try {
            final Process kill = new ProcessBuilder("kill", "-s", "INT", Long.toString(pid)).redirectErrorStream(true).start();
            kill.getInputStream().readAllBytes();
            kill.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot signal testpmd " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** @return a builder with the defaults that work on this project's machines ({@code -m 256}, 8192 mbufs) */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Launches testpmd.
     *
     * @throws IllegalStateException if already started, or if its runtime directory exists already (another
     *                               process uses the prefix: this instance never deletes what it did not create)
     */
    public synchronized void start() throws IOException {
        if (process != null) {
            throw new IllegalStateException(name + ": already started");
        }
        if (Files.exists(runtimeDir)) {
            throw new IllegalStateException(name + ": DPDK runtime directory " + runtimeDir + " exists already");
        }
        final Process started = new ProcessBuilder(commandLine).redirectErrorStream(true).start();
        transcript = Transcript.follow(started.getInputStream(), name);
        process = started;
        LIVE.add(this);
    }

    /**
     * Waits until testpmd has printed {@code count} lines containing a match of {@code regex} (lines printed
     * before this call count too), e.g. a number of its periodic statistics.
     *
     * @throws IllegalStateException if fewer came within {@code timeoutMs}, or testpmd exited first; the message
     *                               holds the end of the transcript
     */
    public void awaitOutputLines(final String regex, final int count, final long timeoutMs)
            throws InterruptedException {
        final int matched = startedTranscript().awaitMatchingLines(Pattern.compile(regex), count, timeoutMs);
        if (matched < count) {
            final String why = process.isAlive() ? "within " + timeoutMs + " ms"
                    : "before it exited with code " + process.exitValue();
            throw new IllegalStateException(name + ": " + matched + " of " + count + " lines matching /" + regex
                    + "/ " + why + "; last lines:\n" + transcript.tail(TAIL_LINES));
        }
    }

    /**
     * Waits until testpmd has printed a line containing a match of {@code regex} (lines printed before this
     * call count too).
     *
     * @return the matching line
     * @throws IllegalStateException if no such line came within {@code timeoutMs}, or testpmd exited first;
     *                               the message holds the end of the transcript
     */
    public String awaitOutput(final String regex, final long timeoutMs) throws InterruptedException {
        final Optional<String> line = startedTranscript().awaitLine(Pattern.compile(regex), timeoutMs);
        if (line.isPresent()) {
            return line.get();
        }
        final String why = process.isAlive() ? "within " + timeoutMs + " ms"
                : "before it exited with code " + process.exitValue();
        throw new IllegalStateException(name + ": no line matching /" + regex + "/ " + why + "; last lines:\n"
                + transcript.tail(TAIL_LINES));
    }

    /**
     * Stops testpmd with SIGINT and returns the forward statistics it printed; SIGKILL follows if it has not
     * exited within the grace period. Its runtime directory is removed in every case.
     *
     * @throws IllegalStateException if it had to be killed or printed no forward statistics (the message holds
     *                               the end of the transcript), or if already stopped
     */
    public synchronized TestpmdStats stop() throws InterruptedException {
        startedTranscript();
        if (stopped) {
            throw new IllegalStateException(name + ": already stopped");
        }
        try {
            final boolean exitedOnSigint = terminate();
            transcript.awaitEnd(END_OF_OUTPUT_TIMEOUT_MS);
            if (!exitedOnSigint) {
                throw new IllegalStateException(name + ": did not exit within " + stopGraceMs
                        + " ms of SIGINT, killed it; last lines:\n" + transcript.tail(TAIL_LINES));
            }
            try {
                return TestpmdStats.parse(transcript.text());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(name + ": exited with code " + process.exitValue() + " but "
                        + e.getMessage() + "; last lines:\n" + transcript.tail(TAIL_LINES), e);
            }
        } finally {
            cleanUp();
        }
    }

    /**
     * Stops testpmd if it still runs (SIGINT, then SIGKILL; SIGKILL at once if this thread is interrupted) and
     * removes its runtime directory; idempotent.
     */
    @Override
    public synchronized void close() {
        if (process == null || stopped) {
            return;
        }
        try {
            terminate();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            cleanUp();
        }
    }

    /** @return testpmd's process id */
    public long pid() {
        return startedProcess().pid();
    }

    /** @return true while the testpmd process runs */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** @return the name this instance was built with (used in its file prefix and messages) */
    public String name() {
        return name;
    }

    /** @return the unique {@code --file-prefix} of this instance */
    public String filePrefix() {
        return filePrefix;
    }

    /** @return where DPDK keeps this instance's runtime files */
    public Path runtimeDir() {
        return runtimeDir;
    }

    /** @return the full command line ({@code ip netns exec NAME} first when in a namespace, then {@code stdbuf}) */
    public List<String> commandLine() {
        return commandLine;
    }

    /** @return everything testpmd printed so far */
    public String transcript() {
        return startedTranscript().text();
    }

    /** @return the last {@code lineCount} lines testpmd printed */
    public String transcriptTail(final int lineCount) {
        return startedTranscript().tail(lineCount);
    }

    /** SIGINT, then SIGKILL after the grace period. @return true if it exited without SIGKILL */
    private boolean terminate() throws InterruptedException {
        if (process.isAlive()) {
            signalInterrupt(process.pid());
        }
        if (process.waitFor(stopGraceMs, TimeUnit.MILLISECONDS)) {
            return true;
        }
        process.destroyForcibly();
        process.waitFor(KILL_WAIT_MS, TimeUnit.MILLISECONDS);
        return false;
    }

    private void cleanUp() {
        stopped = true;
        LIVE.remove(this);
        closeStreams();
        DpdkRuntimeDir.delete(runtimeDir);
    }

    private static void killAndCleanUp(final Testpmd testpmd) {
        testpmd.process.destroyForcibly();
        try {
            testpmd.process.waitFor(KILL_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        DpdkRuntimeDir.delete(testpmd.runtimeDir);
    }

    private void closeStreams() {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // the process is gone; nothing to flush
        }
    }

    private Process startedProcess() {
        if (process == null) {
            throw new IllegalStateException(name + ": not started");
        }
        return process;
    }

    private Transcript startedTranscript() {
        startedProcess();
        return transcript;
    }

    /** How to run one testpmd: devices, forwarding, core, memory. */
    public static final class Builder {
        private static final Pattern NAME = Pattern.compile("[a-z0-9]{1,12}");

        private String executable = "dpdk-testpmd";
        private String name = "testpmd";
        private final List<String> vdevs = new ArrayList<>();
        private ForwardMode forwardMode = ForwardMode.IO;
        private boolean txFirst;
        private int txPacketLengthBytes;
        private int queues = 1;
        private int cpu = -1;
        private int memoryMegabytes = 256;
        private int totalMbufs = 8192;
        private int statsPeriodSeconds;
        private long stopGraceMs = 10_000;
        private String networkNamespace;
        private final List<String> extraEalArguments = new ArrayList<>();
        private final List<String> extraTestpmdArguments = new ArrayList<>();

        private Builder() {
        }

        /** Names the instance (lower-case letters and digits, at most 12): it goes into the file prefix. */
        public Builder name(final String instanceName) {
            if (!NAME.matcher(instanceName).matches()) {
                throw new IllegalArgumentException("name must match " + NAME + ": " + instanceName);
            }
            this.name = instanceName;
            return this;
        }

        /**
         * Runs testpmd inside the named network namespace ({@code ip netns exec}, which execs, so {@link #pid()} is
         * still testpmd's): devices it creates, such as a {@code net_tap} TAP, are made there.
         */
        public Builder networkNamespace(final String namespace) {
            this.networkNamespace = namespace;
            return this;
        }

        /** Sets the program to run instead of {@code dpdk-testpmd} from the PATH. */
        public Builder executable(final String program) {
            this.executable = program;
            return this;
        }

        /**
         * Adds a virtual device ({@code --vdev}), e.g. {@code net_virtio_user0,path=SOCK,queues=1,queue_size=256}
         * or {@code net_vhost0,iface=SOCK,queues=1}.
         */
        public Builder vdev(final String devargs) {
            vdevs.add(devargs);
            return this;
        }

        /** Sets the forwarding mode (testpmd's default is io). */
        public Builder forwardMode(final ForwardMode mode) {
            this.forwardMode = mode;
            return this;
        }

        /** With {@code true}, sends a burst on every port first ({@code --tx-first}): starts io/macswap loops. */
        public Builder txFirst(final boolean sendFirst) {
            this.txFirst = sendFirst;
            return this;
        }

        /** Sets the length of txonly packets ({@code --txpkts}); 0 leaves testpmd's default (64 bytes). */
        public Builder txPacketLengthBytes(final int lengthBytes) {
            this.txPacketLengthBytes = lengthBytes;
            return this;
        }

        /**
         * Sets the RX and TX queues per port ({@code --rxq}, {@code --txq}, passed only when not 1, testpmd's
         * default: with them a testpmd whose device failed to probe exits at once instead of stopping cleanly);
         * match the devargs' {@code queues}.
         */
        public Builder queues(final int queueCount) {
            if (queueCount < 1) {
                throw new IllegalArgumentException("queues must be at least 1: " + queueCount);
            }
            this.queues = queueCount;
            return this;
        }

        /**
         * Pins the whole process to host CPU {@code hostCpu} ({@code taskset -c}) with its main and its
         * forwarding lcore both on it ({@code --lcores 0@CPU,1@CPU}); a negative value leaves it unpinned.
         */
        public Builder cpu(final int hostCpu) {
            this.cpu = hostCpu;
            return this;
        }

        /** Sets the memory DPDK takes without hugepages ({@code --no-huge -m N}). */
        public Builder memoryMegabytes(final int megabytes) {
            this.memoryMegabytes = megabytes;
            return this;
        }

        /** Sets the size of the mbuf pool ({@code --total-num-mbufs}); the default pool does not fit 256 MB. */
        public Builder totalMbufs(final int mbufCount) {
            this.totalMbufs = mbufCount;
            return this;
        }

        /**
         * Prints port statistics every so many seconds ({@code --stats-period}); 0 (default) prints none. Without
         * it testpmd waits on its standard input instead, so it also exits if this JVM dies without stopping it.
         */
        public Builder statsPeriodSeconds(final int periodSeconds) {
            this.statsPeriodSeconds = periodSeconds;
            return this;
        }

        /** Sets how long {@link Testpmd#stop()} waits after SIGINT before SIGKILL. */
        public Builder stopGraceMs(final long graceMs) {
            this.stopGraceMs = graceMs;
            return this;
        }

        /** Adds an EAL argument (before {@code --}). */
        public Builder ealArgument(final String argument) {
            extraEalArguments.add(argument);
            return this;
        }

        /** Adds a testpmd application argument (after {@code --}). */
        public Builder testpmdArgument(final String argument) {
            extraTestpmdArguments.add(argument);
            return this;
        }

        /** @return a testpmd, not yet started, with a file prefix unique to it */
        public Testpmd build() {
            final String uniqueSuffix = ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet() + "-"
                    + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 16));
            final String filePrefix = "vp-" + name + "-" + uniqueSuffix;
            return new Testpmd(this, filePrefix);
        }

        /** @return the command line this builder describes, with {@code filePrefix} */
        List<String> commandLine(final String filePrefix) {
            final List<String> command = new ArrayList<>();
            if (networkNamespace != null) {
                command.addAll(List.of("ip", "netns", "exec", networkNamespace));
            }
            command.addAll(List.of("stdbuf", "-oL"));
            if (cpu >= 0) {
                command.addAll(List.of("taskset", "-c", Integer.toString(cpu)));
            }
            command.add(executable);
            if (cpu >= 0) {
                command.addAll(List.of("--lcores", "0@" + cpu + ",1@" + cpu));
            }
            command.addAll(List.of("--no-huge", "-m", Integer.toString(memoryMegabytes), "--no-pci",
                    "--file-prefix", filePrefix));
            vdevs.forEach(vdev -> command.addAll(List.of("--vdev", vdev)));
            command.addAll(extraEalArguments);
            command.add("--");
            command.addAll(List.of("--forward-mode=" + forwardMode.argument(), "-a"));
            if (txFirst) {
                command.add("--tx-first");
            }
            if (txPacketLengthBytes > 0) {
                command.add("--txpkts=" + txPacketLengthBytes);
            }
            if (queues != 1) {
                command.addAll(List.of("--rxq=" + queues, "--txq=" + queues));
            }
            command.add("--total-num-mbufs=" + totalMbufs);
            if (statsPeriodSeconds > 0) {
                command.addAll(List.of("--stats-period", Integer.toString(statsPeriodSeconds)));
            }
            command.addAll(extraTestpmdArguments);
            return List.copyOf(command);
        }
    }
}

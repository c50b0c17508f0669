package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * A Linux guest under QEMU (TCG, one vCPU, guest RAM in a shared memfd so vhost-user back-ends can map it)
 * booted from a {@link LinuxGuestImage}, optionally inside a network namespace, whose serial console this
 * object reads and whose shell it drives: {@link #run} sends a command framed by unique markers and returns
 * its output and exit status. Callers add the devices under test with {@link Builder#extraArguments}.
 * {@link #close()} ends the QEMU process this object started, by its PID: SIGTERM, then SIGKILL after
 * {@value #TERMINATE_GRACE_MS} ms.
 */
public final class QemuGuest implements AutoCloseable {
    /** The QEMU program run. */
    public static final String QEMU_PROGRAM = "qemu-system-x86_64";
    /** How long {@link #close()} lets QEMU end after SIGTERM before it sends SIGKILL. */
    public static final long TERMINATE_GRACE_MS = 10_000;
    /** Characters of console tail that failure messages carry. */
    public static final int FAILURE_CONSOLE_TAIL_CHARS = 6_000;
    /** In QEMU's arguments, replaced by the descriptor {@link Builder#connectedSocket} connected. */
    public static final String CONNECTED_FD = "{connected-fd}";
    /**
     * Connects to the socket named by its first argument with a descriptor that survives exec ($^F: perl marks
     * descriptors above it close-on-exec), puts its number where the arguments say {@value #CONNECTED_FD}, execs
     * the rest.
     */
    private static final String FD_LAUNCHER = "use Socket; $^F = 1023; my $path = shift;"
            + " socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die \"socket: $!\n\";"
            + " connect($s, pack_sockaddr_un($path)) or die \"connect $path: $!\n\";"
            + " my $fd = fileno($s); s/\\{connected-fd\\}/$fd/g for @ARGV;"
            + " exec { $ARGV[0] } @ARGV or die \"exec $ARGV[0]: $!\n\";";
    /** The longest line a command may have: the guest terminal's line buffer holds 4096 bytes. */
    public static final int MAX_COMMAND_LINE_CHARS = 4_000;

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final byte CTRL_C = 0x03;
    private static final long CONSOLE_READER_JOIN_MS = 5_000;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly)));
    }

    private final List<String> commandLine;
    private final String markerPrefix = "vpq" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final ConsoleTranscript transcript = new ConsoleTranscript();
    private volatile Process process;
    private volatile Thread consoleReader;
    private long startNanos;
    private int commandSequence;

    private QemuGuest(final List<String> commandLine) {
        this.commandLine = List.copyOf(commandLine);
    }

    /** @return a builder for a guest booting {@code image} */
    public static Builder builder(final LinuxGuestImage image) {
        return new Builder(image);
    }

    /** Skips (or, under {@code VIOPLANE_REQUIRE_PEERS=1}, fails) the calling test unless QEMU is installed. */
    public static void requireQemu() {
        Requirements.requireCommand(QEMU_PROGRAM, "qemu-system-x86");
    }

    /** @return the full command line this guest runs (with {@code ip netns exec NAME} in front when in a netns) */
    public List<String> commandLine() {
        return commandLine;
    }

    /** Starts QEMU; the guest then boots on its own (see {@link #awaitShell}). */
    public synchronized void start() {
        if (process != null) {
            throw new IllegalStateException("this guest was already started");
        }
        try {
            startNanos = System.nanoTime();
            final Process started = new ProcessBuilder(commandLine).redirectErrorStream(true).start();
            LIVE.add(started);
            process = started;
            consoleReader = transcript.follow(started.getInputStream(), "qemu-console-" + started.pid());
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + String.join(" ", commandLine), e);
        }
    }

    /**
     * Waits until the guest's shell answers a command on the serial console.
     *
     * @return how long it took from {@link #start()}
     * @throws GuestTimeoutException if it does not within {@code timeout}
     * @throws IllegalStateException if QEMU exits first
     */
    public Duration awaitShell(final Duration timeout) {
        final Process running = requireStarted();
        final long deadlineNanos = System.nanoTime() + timeout.toNanos();
        final Optional<MatchResult> ready = await(Pattern.compile(Pattern.quote(LinuxGuestImage.SHELL_READY_LINE)), 0,
                timeout.toMillis());
        if (ready.isEmpty()) {
            failIfExited(running, "before its shell was ready");
            throw new GuestTimeoutException("the guest's shell was not ready after " + timeout.toSeconds() + " s"
                    + consoleTailForMessage());
        }
        final Duration remaining = Duration.ofNanos(Math.max(deadlineNanos - System.nanoTime(), 0));
        final ShellResult probe = run("true", remaining.compareTo(Duration.ofSeconds(30)) < 0
                ? Duration.ofSeconds(30) : remaining);
        if (!probe.succeeded()) {
            throw new IllegalStateException("the guest's shell failed 'true': " + probe + consoleTailForMessage());
        }
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /**
     * Runs {@code command} in the guest's shell (in the shell itself, so {@code cd} and variables persist; its
     * standard input is /dev/null) and waits for it to finish. Output that background commands print while it
     * runs lands in its output too: redirect theirs.
     *
     * @return its output and exit status
     * @throws GuestTimeoutException if it does not finish within {@code timeout}; the command is then interrupted
     *                               with Ctrl-C
     * @throws IllegalStateException if QEMU exits first
     */
    public synchronized ShellResult run(final String command, final Duration timeout) {
        final Process running = requireStarted();
        for (final String line : command.split("\n")) {
            if (line.length() > MAX_COMMAND_LINE_CHARS) {
                throw new IllegalArgumentException("a command line longer than " + MAX_COMMAND_LINE_CHARS
                        + " characters does not fit the guest terminal's buffer");
            }
        }
        final int id = ++commandSequence;
        final String tag = markerPrefix + "x" + id;
        final int fromIndex = transcript.length();
        send("printf '%s%s:begin\\n' " + markerPrefix + " x" + id + "\n{\n" + command + "\n} </dev/null\n"
                + "printf '\\n%s%s:end:%d\\n' " + markerPrefix + " x" + id + " $?\n");
        final Pattern end = Pattern.compile("\n" + Pattern.quote(tag) + ":end:(\\d+)\n");
        final Optional<MatchResult> ended = await(end, fromIndex, timeout.toMillis());
        if (ended.isEmpty()) {
            failIfExited(running, "while running: " + command);
            sendBytes(new byte[] {CTRL_C});
            throw new GuestTimeoutException("the guest did not finish within " + timeout.toMillis() + " ms (sent "
                    + "Ctrl-C): " + command + consoleTailForMessage());
        }
        final String framed = transcript.textFrom(fromIndex).substring(0, ended.get().start() - fromIndex);
        final String begin = tag + ":begin\n";
        final int beginIndex = framed.indexOf(begin);
        final String output = beginIndex < 0 ? framed : framed.substring(beginIndex + begin.length());
        return new ShellResult(command, Integer.parseInt(ended.get().group(1)), output);
    }

    /**
     * Runs {@code command} like {@link #run} and requires exit status 0.
     *
     * @throws IllegalStateException with the result and the console's tail if the status is not 0
     */
    public ShellResult runSuccessfully(final String command, final Duration timeout) {
        final ShellResult result = run(command, timeout);
        if (!result.succeeded()) {
            throw new IllegalStateException("guest command failed:\n" + result + consoleTailForMessage());
        }
        return result;
    }

    /** @return everything the serial console and QEMU printed so far */
    public String console() {
        return transcript.text();
    }

    /** @return the last {@code maxChars} characters of {@link #console()} */
    public String consoleTail(final int maxChars) {
        return transcript.tail(maxChars);
    }

    /** @return the PID of the QEMU process */
    public long pid() {
        return requireStarted().pid();
    }

    /** @return true while the QEMU process runs */
    public boolean isAlive() {
        final Process running = process;
        return running != null && running.isAlive();
    }

    /** Ends QEMU (SIGTERM to its PID, SIGKILL after the grace period) and waits for it and the console reader. */
    @Override
    public void close() {
        final Process running = process;
        if (running == null) {
            return;
        }
        try {
            if (running.isAlive()) {
                running.destroy();
                if (!running.waitFor(TERMINATE_GRACE_MS, TimeUnit.MILLISECONDS)) {
                    running.destroyForcibly();
                    running.waitFor(TERMINATE_GRACE_MS, TimeUnit.MILLISECONDS);
                }
            }
            closeQuietly(running.getOutputStream());
            final Thread reader = consoleReader;
            if (reader != null) {
                reader.join(CONSOLE_READER_JOIN_MS);
            }
        } catch (InterruptedException e) {
            running.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            if (!running.isAlive()) {
                LIVE.remove(running);
            }
        }
    }

    private Optional<MatchResult> await(final Pattern pattern, final int fromIndex, final long timeoutMs) {
        try {
            return transcript.await(pattern, fromIndex, timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the guest", e);
        }
    }

    private Process requireStarted() {
        final Process running = process;
        if (running == null) {
            throw new IllegalStateException("start() the guest first");
        }
        return running;
    }

    private void failIfExited(final Process running, final String when) {
        try {
            if (running.waitFor(200, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("QEMU exited with status " + running.exitValue() + " " + when
                        + "\ncommand line: " + String.join(" ", commandLine) + consoleTailForMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking QEMU", e);
        }
    }

    private void send(final String text) {
        sendBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    private void sendBytes(final byte[] bytes) {
        try {
            final OutputStream input = requireStarted().getOutputStream();
            input.write(bytes);
            input.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to the guest's serial console" + consoleTailForMessage(), e);
        }
    }

    private String consoleTailForMessage() {
        return "\n--- console tail ---\n" + transcript.tail(FAILURE_CONSOLE_TAIL_CHARS) + "\n--- end of console ---";
    }

    private static void closeQuietly(final OutputStream stream) {
        try {
            stream.close();
        } catch (IOException ignored) {
            // QEMU is gone; nothing reads this pipe any more.
        }
    }

    /** Chooses QEMU's memory, namespace, kernel arguments and extra devices; {@link #build()} makes the guest. */
    public static final class Builder {
        private final LinuxGuestImage image;
        private Netns netns;
        private int memoryMiB = 512;
        private int vcpus = 1;
        private String memoryOptions = "";
        private final List<String> kernelArguments = new ArrayList<>();
        private final List<String> extraArguments = new ArrayList<>();
        private java.nio.file.Path connectTo;

        private Builder(final LinuxGuestImage image) {
            this.image = image;
        }

        /** Runs QEMU inside {@code namespace} ({@code ip netns exec}, which execs, so the PID is QEMU's). */
        public Builder netns(final Netns namespace) {
            this.netns = namespace;
            return this;
        }

        /** Gives the guest {@code sizeMiB} MiB of RAM (default 512), all in one shared memfd. */
        public Builder memoryMiB(final int sizeMiB) {
            this.memoryMiB = sizeMiB;
            return this;
        }

        /** Gives the guest {@code count} vCPUs (default 1; TCG runs one host thread per vCPU). */
        public Builder vcpus(final int count) {
            this.vcpus = count;
            return this;
        }

        /**
         * Lets the guest grow its memory at run time: {@code -m SIZE,slots=SLOTS,maxmem=MAXMiB} (memory hotplug with
         * {@code pc-dimm} devices through QMP).
         */
        public Builder hotplugMemory(final int slots, final int maxMiB) {
            this.memoryOptions = ",slots=" + slots + ",maxmem=" + maxMiB + "M";
            return this;
        }

        /** Opens QEMU's machine protocol on Unix socket {@code socket} (a server; see {@link Qmp#connect}). */
        public Builder qmpSocket(final java.nio.file.Path socket) {
            extraArguments.addAll(List.of("-qmp", "unix:" + socket + ",server=on,wait=off"));
            return this;
        }

        /**
         * Starts QEMU with a descriptor connected to the Unix socket {@code socket} (someone must listen there),
         * for devices that take only an inherited socket ({@code -device x-pci-proxy-dev,fd=N}): a perl launcher
         * (perl-base is essential in Debian) connects, keeps the descriptor open across exec and replaces
         * {@value #CONNECTED_FD} in QEMU's arguments with its number, then execs QEMU (same PID).
         */
        public Builder connectedSocket(final java.nio.file.Path socket) {
            this.connectTo = socket;
            return this;
        }

        /** Appends {@code arguments} to the kernel command line (after {@code console=ttyS0 panic=-1}). */
        public Builder kernelArguments(final String... arguments) {
            kernelArguments.addAll(List.of(arguments));
            return this;
        }

        /** Appends {@code arguments} to QEMU's command line: {@code -netdev}, {@code -chardev}, {@code -device}... */
        public Builder extraArguments(final String... arguments) {
            extraArguments.addAll(List.of(arguments));
            return this;
        }

        /** @return a guest that has not been started yet */
        public QemuGuest build() {
            final List<String> qemu = new ArrayList<>(List.of(QEMU_PROGRAM,
                    "-accel", "tcg", "-cpu", "max", "-smp", Integer.toString(vcpus),
                    "-m", memoryMiB + "M" + memoryOptions,
                    "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
                    "-object", "memory-backend-memfd,id=mem,size=" + memoryMiB + "M,share=on",
                    "-numa", "node,memdev=mem",
                    "-kernel", image.kernel().toString(),
                    "-initrd", image.initramfs().toString(),
                    "-append", String.join(" ", kernelCommandLine()),
                    "-serial", "stdio"));
            qemu.addAll(extraArguments);
            if (connectTo != null) {
                qemu.addAll(0, List.of("perl", "-e", FD_LAUNCHER, connectTo.toString()));
            }
            return new QemuGuest(netns == null ? qemu : netns.commandLine(qemu.toArray(String[]::new)));
        }

        private List<String> kernelCommandLine() {
            final List<String> arguments = new ArrayList<>(List.of("console=ttyS0", "panic=-1"));
            arguments.addAll(kernelArguments);
            return arguments;
        }
    }
}

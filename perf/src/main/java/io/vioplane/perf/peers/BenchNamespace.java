package io.vioplane.perf.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace a benchmark creates for its TAP devices and deletes when done ({@code ip netns}), so that
 * benchmark traffic never leaves the machine's own namespaces. Names are {@code vp-bench-PID-N}; a shutdown hook
 * deletes any left open. IPv6 is off inside, so the kernel sends nothing of its own into a TAP.
 */
final class BenchNamespace implements AutoCloseable {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(BenchNamespace::delete)));
    }

    private final String name;

    private BenchNamespace(final String name) {
        this.name = name;
    }

    /** Creates the namespace with loopback up and IPv6 disabled on every interface made in it. */
    static BenchNamespace create() throws IOException, InterruptedException {
        final String name = "vp-bench-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        run(List.of("ip", "netns", "add", name));
        LIVE.add(name);
        final BenchNamespace namespace = new BenchNamespace(name);
        namespace.exec("ip", "link", "set", "lo", "up");
        namespace.exec("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        namespace.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        return namespace;
    }

    /** @return the namespace's name */
    String name() {
        return name;
    }

    /** Runs {@code command} inside the namespace; fails unless it exits 0. */
    String exec(final String... command) throws IOException, InterruptedException {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return run(full);
    }

    /** Waits until {@code interfaceName} exists in the namespace (a back-end creates it when it starts). */
    void awaitInterface(final String interfaceName) throws IOException, InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!exec("ip", "-o", "link", "show").contains(" " + interfaceName + ":")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no interface " + interfaceName + " appeared in " + name);
            }
            Thread.sleep(50);
        }
    }

    private static String run(final List<String> command) throws IOException, InterruptedException {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + process.exitValue() + ": " + output);
        }
        return output;
    }

    private static void delete(final String name) {
        try {
            new ProcessBuilder("ip", "netns", "del", name).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException e) {
            System.err.println("vioplane bench: could not delete namespace " + name + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes the namespace; the TAPs in it go with it. */
    @Override
    public void close() {
        delete(name);
        LIVE.remove(name);
    }
}

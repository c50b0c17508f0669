package io.vioplane.platform.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace a test creates and deletes ({@code ip netns}): the only place test traffic goes
 * besides loopback. Names are unique per JVM; a shutdown hook deletes any a test failed to close.
 */
public final class Netns implements AutoCloseable {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(name -> Commands.tryRun("ip", "netns", "del", name))));
    }

    private final String name;

    private Netns(final String name) {
        this.name = name;
    }

    /** Creates a namespace named {@code vp-PREFIX-PID-N} with its loopback up. */
    public static Netns create(final String prefix) {
        final String name = "vp-" + prefix + "-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        Commands.run("ip", "netns", "add", name);
        LIVE.add(name);
        final Netns netns = new Netns(name);
        netns.exec("ip", "link", "set", "lo", "up");
        return netns;
    }

    /** @return the namespace's name */
    public String name() {
        return name;
    }

    /** Runs {@code command} inside the namespace, failing unless it exits 0; returns its output. */
    public String exec(final String... command) {
        return Commands.run(inside(command));
    }

    /** Runs {@code command} inside the namespace; never throws for a non-zero exit. */
    public Commands.Result tryExec(final String... command) {
        return Commands.tryRun(inside(command));
    }

    /** @return the full command line that runs {@code command} inside the namespace */
    public List<String> commandLine(final String... command) {
        return List.of(inside(command));
    }

    private String[] inside(final String... command) {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return full.toArray(String[]::new);
    }

    /** Moves the host interface {@code interfaceName} into this namespace. */
    public void adopt(final String interfaceName) {
        Commands.run("ip", "link", "set", interfaceName, "netns", name);
    }

    /** Deletes the namespace (interfaces in it are destroyed or returned to the host). */
    @Override
    public void close() {
        Commands.tryRun("ip", "netns", "del", name);
        LIVE.remove(name);
    }
}

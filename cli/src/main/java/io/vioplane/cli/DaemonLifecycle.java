package io.vioplane.cli;

import java.util.concurrent.CountDownLatch;

/**
 * The foreground life of a vioplane daemon command: say it is ready (one line on standard error, naming the
 * {@code vioplane stat} command for its counters), serve until SIGTERM or SIGINT, then close the daemon once.
 */
final class DaemonLifecycle {
    private DaemonLifecycle() {
    }

    /**
     * Blocks until the JVM is asked to stop, closing {@code daemon} on the way out.
     *
     * @param what describes the daemon in the readiness line, e.g. {@code "echo, 1 queue pair(s)"}
     */
    static int serveUntilStopped(final AutoCloseable daemon, final String what) throws InterruptedException {
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("vioplane: stopping");
            try {
                daemon.close();
            } catch (Exception e) {
                System.err.println("vioplane: while stopping: " + e);
            }
            stopped.countDown();
        }, "vioplane-shutdown"));
        System.err.println("vioplane: ready (" + what + ", counters: vioplane stat --pid "
                + ProcessHandle.current().pid() + ")");
        stopped.await();
        return 0;
    }
}

package io.vioplane.perf.platform;

import io.vioplane.platform.sys.EventFd;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * An eventfd round trip between two threads: this thread signals "ping" and blocks reading "pong"; an echo
 * thread blocks reading "ping" and signals "pong". The latency of a kick answered by a call when both
 * sides sleep in the kernel instead of polling: the cost that notification suppression avoids.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EventFdRoundTripBenchmark {
    private EventFd ping;
    private EventFd pong;
    private Thread echo;
    private volatile boolean running;

    /** Starts the echo thread over two blocking eventfds. */
    @Setup
    public void setUp() {
        ping = EventFd.create(0, 0);
        pong = EventFd.create(0, 0);
        running = true;
        echo = new Thread(() -> {
            while (running) {
                ping.drain();
                pong.signal();
            }
        }, "eventfd-echo");
        echo.setDaemon(true);
        echo.start();
    }

    /** Stops the echo thread and closes the eventfds. */
    @TearDown
    public void tearDown() throws InterruptedException {
        running = false;
        ping.signal();
        echo.join(5_000);
        ping.close();
        pong.close();
    }

    /** @return the echoed count */
    @Benchmark
    public long roundTrip() {
        ping.signal();
        return pong.drain();
    }
}

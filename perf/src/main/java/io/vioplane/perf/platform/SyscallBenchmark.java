package io.vioplane.perf.platform;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.Linux;
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
 * What one call into Linux through FFM costs on this machine: sysconf(_SC_PAGESIZE) (glibc answers it from
 * memory: the pure cost of a downcall with errno capture), getpid (the cheapest system call), an eventfd signal plus drain (two system calls, what a kick or a
 * call costs the thread that makes it), and the drain of an empty eventfd (EAGAIN: the cost of polling a
 * doorbell that did not ring).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SyscallBenchmark {
    private EventFd eventFd;

    /** Creates the eventfd. */
    @Setup
    public void setUp() {
        eventFd = EventFd.create();
    }

    /** Closes it. */
    @TearDown
    public void tearDown() {
        eventFd.close();
    }

    /** @return the page size, through a downcall that does not enter the kernel */
    @Benchmark
    public long downcallWithoutSyscall() {
        return Linux.pageSize();
    }

    /** @return this process's id, through a downcall */
    @Benchmark
    public int getpidDowncall() {
        return Linux.getpid();
    }

    /** @return the drained count after one signal */
    @Benchmark
    public long eventFdSignalAndDrain() {
        eventFd.signal();
        return eventFd.drain();
    }

    /** @return 0: the drain of an eventfd nobody signalled */
    @Benchmark
    public long eventFdDrainEmpty() {
        return eventFd.drain();
    }
}

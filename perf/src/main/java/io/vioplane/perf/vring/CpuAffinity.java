package io.vioplane.perf.vring;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reads and sets the calling thread's CPU affinity with sched_getaffinity(2) and sched_setaffinity(2), through
 * FFM: what puts the two-thread benchmark's driver and device threads on a core each. Unpinned, Linux was seen
 * on these 2-vCPU machines leaving both spinning threads on one CPU for the rest of a run (after another
 * process had briefly taken the other CPU), time-slicing them at about a tenth of the rate they reach on two.
 * Setup-time only: each call allocates.
 */
public final class CpuAffinity {
    /** A cpu_set_t of 1024 CPUs, as glibc defines it. */
    private static final long CPU_SET_BYTES = 128;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final FunctionDescriptor AFFINITY = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
    private static final MethodHandle SCHED_GETAFFINITY = downcall("sched_getaffinity");
    private static final MethodHandle SCHED_SETAFFINITY = downcall("sched_setaffinity");

    private CpuAffinity() {
    }

    private static MethodHandle downcall(final String name) {
        final MemorySegment symbol = LINKER.defaultLookup().find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("C library has no " + name));
        return LINKER.downcallHandle(symbol, AFFINITY, Linker.Option.captureCallState("errno"));
    }

    /** @return the CPUs the calling thread may run on, in ascending order */
    public static int[] allowedCpus() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment capture = arena.allocate(CAPTURE_LAYOUT);
            final MemorySegment set = arena.allocate(CPU_SET_BYTES, 8);
            final int result = (int) SCHED_GETAFFINITY.invokeExact(capture, 0, CPU_SET_BYTES, set);
            if (result != 0) {
                throw new IllegalStateException("sched_getaffinity failed: errno " + (int) ERRNO.get(capture, 0L));
            }
            int[] cpus = new int[0];
            for (int cpu = 0; cpu < CPU_SET_BYTES * 8; cpu++) {
                if ((set.get(JAVA_LONG, cpu / 64 * 8L) & (1L << (cpu % 64))) != 0) {
                    cpus = Arrays.copyOf(cpus, cpus.length + 1);
                    cpus[cpus.length - 1] = cpu;
                }
            }
            return cpus;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Restricts the calling thread to {@code cpus} (one CPU pins it). */
    public static void restrictCurrentThread(final int... cpus) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment capture = arena.allocate(CAPTURE_LAYOUT);
            final MemorySegment set = arena.allocate(CPU_SET_BYTES, 8);
            for (int cpu : cpus) {
                if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
                    throw new IllegalArgumentException("cpu " + cpu + " outside a cpu_set_t");
                }
                final long at = cpu / 64 * 8L;
                set.set(JAVA_LONG, at, set.get(JAVA_LONG, at) | 1L << (cpu % 64));
            }
            final int result = (int) SCHED_SETAFFINITY.invokeExact(capture, 0, CPU_SET_BYTES, set);
            if (result != 0) {
                throw new IllegalStateException("sched_setaffinity(" + Arrays.toString(cpus) + ") failed: errno "
                        + (int) ERRNO.get(capture, 0L));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}

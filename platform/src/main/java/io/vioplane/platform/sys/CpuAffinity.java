package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The calling thread's CPU affinity (sched_getaffinity(2), sched_setaffinity(2)): what pins a data-plane thread,
 * or a benchmark's driver and device threads, to a core each. Unpinned, Linux was seen on 2-vCPU machines leaving
 * two spinning threads on one CPU for the rest of a run after another process briefly took the other CPU.
 * Setup-time calls: each allocates.
 */
public final class CpuAffinity {
    /** A cpu_set_t of 1024 CPUs, as glibc defines it. */
    private static final long CPU_SET_BYTES = 128;

    private CpuAffinity() {
    }

    /** @return the CPUs the calling thread may run on, ascending */
    public static int[] allowedCpus() {
        try (Arena arena = Arena.ofConfined()) {
            final Libc.Scratch scratch = Libc.scratch();
            final MemorySegment set = arena.allocate(CPU_SET_BYTES, 8);
            if (Libc.schedGetAffinity(scratch.capture, CPU_SET_BYTES, set) != 0) {
                throw new SysException("sched_getaffinity", scratch.errno());
            }
            int[] cpus = new int[0];
            for (int cpu = 0; cpu < CPU_SET_BYTES * 8; cpu++) {
                if ((set.get(JAVA_LONG, cpu / 64 * 8L) & (1L << (cpu % 64))) != 0) {
                    cpus = Arrays.copyOf(cpus, cpus.length + 1);
                    cpus[cpus.length - 1] = cpu;
                }
            }
            return cpus;
        }
    }

    /** Restricts the calling thread to {@code cpus} (one CPU pins it). */
    public static void restrictCurrentThread(final int... cpus) {
        try (Arena arena = Arena.ofConfined()) {
            final Libc.Scratch scratch = Libc.scratch();
            final MemorySegment set = arena.allocate(CPU_SET_BYTES, 8);
            for (int cpu : cpus) {
                if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
                    throw new IllegalArgumentException("cpu " + cpu + " outside a cpu_set_t");
                }
                final long at = cpu / 64 * 8L;
                set.set(JAVA_LONG, at, set.get(JAVA_LONG, at) | 1L << (cpu % 64));
            }
            if (Libc.schedSetAffinity(scratch.capture, CPU_SET_BYTES, set) != 0) {
                throw new SysException("sched_setaffinity(" + Arrays.toString(cpus) + ")", scratch.errno());
            }
        }
    }
}

package io.vioplane.e1000;

/**
 * The time base of the interrupt-mitigation timers (ITR, RDTR/RADV, TIDV/TADV): {@link System#nanoTime} in a VMM,
 * a hand-advanced clock in tests so that mitigation is deterministic.
 */
@FunctionalInterface
public interface DeviceClock {
    /** The system's monotonic clock. */
    DeviceClock SYSTEM = System::nanoTime;

    /** @return the current time in nanoseconds (monotonic, arbitrary origin) */
    long nanoTime();
}

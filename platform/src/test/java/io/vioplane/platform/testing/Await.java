package io.vioplane.platform.testing;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Waiting in a test for something another thread or process does (a ring started, a counter moved): polls a
 * condition every few milliseconds until it holds or a generous deadline passes. The deadline only bounds a
 * failing test; no test asserts how long anything took.
 */
public final class Await {
    private Await() {
    }

    /** @return true once {@code condition} holds, false if it did not within {@code timeoutMs} (or on interrupt) */
    public static boolean until(final BooleanSupplier condition, final long timeoutMs) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}

package io.vioplane.platform.testing;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.CountersFile;
import org.agrona.concurrent.status.AtomicCounter;

import java.nio.file.Path;

/**
 * A process that publishes counters for another process to read: creates a counters file in the directory
 * given as the first argument, sets counters named by the remaining {@code label=value} arguments, prints
 * {@code READY} and keeps running until its standard input closes.
 */
public final class CountersWriterMain {
    private CountersWriterMain() {
    }

    /** Entry point. */
    public static void main(final String[] args) throws Exception {
        try (CountersFile file = CountersFile.create(Path.of(args[0]), "counters-writer test process",
                CountersFile.DEFAULT_VALUES_BYTES, 64 * 1024)) {
            for (int i = 1; i < args.length; i++) {
                final String[] pair = args[i].split("=", 2);
                final AtomicCounter counter = file.newCounter(pair[0], CounterType.QUEUE);
                counter.setRelease(Long.parseLong(pair[1]));
            }
            file.errorLog().record(new IllegalStateException("recorded by the writer"));
            System.out.println("READY " + ProcessHandle.current().pid());
            System.out.flush();
            while (System.in.read() >= 0) {
                Thread.onSpinWait();
            }
        }
    }
}

package io.vioplane.cli;

import io.vioplane.platform.testing.ChildJvm;
import io.vioplane.platform.testing.CountersWriterMain;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Another process publishing counters ({@link CountersWriterMain} in its own JVM) for {@code vioplane stat} to read;
 * {@link #start} returns once its counters file exists, {@link #close} ends it (its file is then removed).
 */
final class CountersWriter implements AutoCloseable {
    private final Process process;

    private CountersWriter(final Process process) {
        this.process = process;
    }

    /** @param counters {@code label=value} pairs */
    static CountersWriter start(final Path directory, final String... counters) throws Exception {
        final String[] args = new String[counters.length + 1];
        args[0] = directory.toString();
        System.arraycopy(counters, 0, args, 1, counters.length);
        final CountersWriter writer = new CountersWriter(ChildJvm.start(CountersWriterMain.class, args));
        final String ready = new BufferedReader(new InputStreamReader(writer.process.getInputStream(),
                StandardCharsets.UTF_8)).readLine();
        if (ready == null || !ready.equals("READY " + writer.process.pid())) {
            writer.close();
            throw new AssertionError("the counters writer did not start: " + ready);
        }
        return writer;
    }

    /** @return the writer's process id */
    long pid() {
        return process.pid();
    }

    @Override
    public void close() throws Exception {
        process.getOutputStream().close();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}

package io.vioplane.cli;

import io.vioplane.platform.testing.ChildJvm;
import io.vioplane.platform.testing.CountersWriterMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class StatCommandTest {
    @Test
    void readsCountersThatAnotherJvmWrites(@TempDir final Path directory) throws Exception {
        final Process writer = ChildJvm.start(CountersWriterMain.class, directory.toString(),
                "q0 rx packets=123456", "q0 drops: no buffer=7");
        try {
            final BufferedReader lines = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
            final String ready = lines.readLine();
            assertNotNull(ready, "the writer JVM started");
            assertTrue(ready.startsWith("READY "), ready);
            final long writerPid = Long.parseLong(ready.substring(6).trim());
            assertEquals(writer.pid(), writerPid);

            final String output = runStat("--dir", directory.toString(), "--errors");
            assertTrue(output.contains("pid " + writerPid), output);
            assertTrue(output.contains("counters-writer test process"), output);
            assertTrue(output.matches("(?s).*\\b123,456\\s+q0 rx packets.*"), output);
            assertTrue(output.matches("(?s).*\\b7\\s+q0 drops: no buffer.*"), output);
            assertTrue(output.contains("recorded by the writer"), output);

            final String filtered = runStat("--dir", directory.toString(), "--pid", Long.toString(writerPid), "--filter", "drops");
            assertFalse(filtered.contains("rx packets"), filtered);
            assertTrue(filtered.contains("drops"), filtered);
        } finally {
            writer.getOutputStream().close();
            if (!writer.waitFor(30, TimeUnit.SECONDS)) {
                writer.destroyForcibly();
            }
        }
        assertTrue(runStat("--dir", directory.toString()).contains("no running vioplane process"),
                "the writer removed its file when it exited");
    }

    private static String runStat(final String... args) {
        final PrintStream original = System.out;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            final String[] full = new String[args.length + 1];
            full[0] = "stat";
            System.arraycopy(args, 0, full, 1, args.length);
            Vioplane.commandLine().execute(full);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}

package io.vioplane.cli;

import io.vioplane.platform.testing.ChildJvm;
import io.vioplane.platform.testing.CountersWriterMain;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
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
        final VioplaneProcess.Result none = VioplaneProcess.run("stat", "--dir", directory.toString());
        assertEquals(List.of("vioplane stat: " + directory + ": no running vioplane process"), none.errorLines(),
                "the writer removed its file when it exited");
        assertEquals(1, none.exitCode());
    }

    @Test
    void watchShowsRatesInTimestampedBlocksWhenRedirectedAndHidesZerosUnlessAsked(@TempDir final Path directory)
            throws Exception {
        try (CountersWriter writer = CountersWriter.start(directory, "q0 rx packets=123456", "q0 tx packets=0")) {
            final Process watch = ChildJvm.builder(Vioplane.class, "stat", "--dir", directory.toString(),
                    "--watch", "1")
                    .redirectErrorStream(true).start();
            final BufferedReader lines = new BufferedReader(new InputStreamReader(watch.getInputStream(),
                    StandardCharsets.UTF_8));
            final StringBuilder seen = new StringBuilder();
            int blocks = 0;
            String line;
            while (blocks < 3 && (line = lines.readLine()) != null) {
                seen.append(line).append('\n');
                if (line.startsWith("--- ")) {
                    blocks++;
                }
            }
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
            final String output = seen.toString();
            assertEquals(3, blocks, output);
            assertTrue(output.matches("(?s)--- \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(every 1 s\\)\n.*"),
                    output);
            assertFalse(output.contains("\033["), "no terminal control sequences when redirected");
            assertTrue(output.contains("per second"), output);
            assertTrue(output.matches("(?s).*123,456\\s+0\\.0\\s+q0 rx packets.*"),
                    "a rate once a second sample exists: "
                    + output);
            assertFalse(output.contains("q0 tx packets"), "zero rows hidden: " + output);
            assertTrue(output.contains("counter(s) at zero not shown"), output);
            assertTrue(runStat("--dir", directory.toString(), "--all").contains("q0 tx packets"));
        }
    }

    @Test
    void jsonFormatIsValidJsonWithDropsByReason(@TempDir final Path directory) throws Exception {
        Requirements.requireCommand("python3", "Python 3, whose json module checks the output");
        try (CountersWriter writer = CountersWriter.start(directory,
                "capture[/tmp/c \"x\"] drops: capture ring full=436563", "q0 rx packets=5")) {
            final String json = runStat("--dir", directory.toString(), "--format", "json");
            final Process python = new ProcessBuilder("python3", "-c", "import json, sys; d = json.load(sys.stdin);"
                    + " p = d['processes'][0]; print(p['pid'], p['drops_by_reason']['capture ring full'],"
                    + " len(p['counters']))").redirectErrorStream(true).start();
            try (var in = python.getOutputStream()) {
                in.write(json.getBytes(StandardCharsets.UTF_8));
            }
            final String parsed = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(python.waitFor(30, TimeUnit.SECONDS));
            assertEquals(writer.pid() + " 436563 2", parsed, json);
        }
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

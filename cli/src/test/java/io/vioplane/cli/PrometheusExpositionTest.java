package io.vioplane.cli;

import io.vioplane.cli.conventions.CounterSnapshot;
import io.vioplane.cli.conventions.PrometheusExposition;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.CountersFileReader;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The counters in the Prometheus text format: names and labels by its conventions, and accepted by Prometheus' own
 * checker ({@code promtool check metrics}, Debian package prometheus), labels with quotes and backslashes included.
 */
class PrometheusExpositionTest {
    /** Fails unless {@code promtool check metrics} accepts {@code exposition} without a problem. */
    static void assertPromtoolAccepts(final String exposition) throws Exception {
        Requirements.requireCommand("promtool", "Prometheus' promtool (apt-get install prometheus)");
        final Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = promtool.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        final String verdict = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(promtool.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, promtool.exitValue(), verdict + "\n" + exposition);
        assertEquals("", verdict.strip(), "promtool found problems:\n" + verdict + "\n" + exposition);
    }

    private static CounterSnapshot snapshot(final String... labelsAndValues) {
        final List<CountersFileReader.Counter> counters = new java.util.ArrayList<>();
        for (int i = 0; i < labelsAndValues.length; i += 2) {
            counters.add(new CountersFileReader.Counter(i / 2, CounterType.QUEUE, labelsAndValues[i],
                    Long.parseLong(labelsAndValues[i + 1])));
        }
        return new CounterSnapshot(42, "test", 1_700_000_000_000L, Path.of("/dev/shm/vioplane/42.counters"), 0,
                counters);
    }

    @Test
    void queueDropsBecomeOneFamilyLabelledByQueueDirectionAndReason() {
        final String text = PrometheusExposition.format(List.of(snapshot(
                "net[/tmp/vm0.sock] q1 tx drops: port refused", "3",
                "net[/tmp/vm0.sock] q0 rx drops: guest receive buffer too small", "5",
                "net[/tmp/vm0.sock] q0 rx packets", "1000")));
        assertTrue(text.contains("# TYPE vioplane_net_drops_total counter\n"
                + "vioplane_net_drops_total{pid=\"42\",name=\"/tmp/vm0.sock\",queue=\"1\",direction=\"tx\","
                + "reason=\"port refused\"} 3\n"
                + "vioplane_net_drops_total{pid=\"42\",name=\"/tmp/vm0.sock\",queue=\"0\",direction=\"rx\","
                + "reason=\"guest receive buffer too small\"} 5\n"), text);
        assertTrue(text.contains("vioplane_net_packets_total{pid=\"42\",name=\"/tmp/vm0.sock\",queue=\"0\","
                + "direction=\"rx\"} 1000\n"), text);
        assertEquals(1, text.lines().filter(line -> line.startsWith("# TYPE vioplane_net_drops_total")).count());
    }

    @Test
    void unscopedAndOddLabelsStillMakeValidNames() throws Exception {
        final String text = PrometheusExposition.format(List.of(snapshot(
                "errors", "2",
                "nat[gw] connections evicted (table full)", "1",
                "capture[/tmp/a \"quoted\" \\dir] drops: capture ring full", "436563",
                "9lives", "1")));
        assertTrue(text.contains("vioplane_errors_total{pid=\"42\"} 2\n"), text);
        assertTrue(text.contains("vioplane_nat_connections_evicted_table_full_total{pid=\"42\",name=\"gw\"} 1\n"),
                text);
        assertTrue(text.contains("name=\"/tmp/a \\\"quoted\\\" \\\\dir\",reason=\"capture ring full\"} 436563"), text);
        assertTrue(text.contains("vioplane__9lives_total"), text);
        assertPromtoolAccepts(text);
    }

    @Test
    void statFormatPrometheusPassesPromtool(@TempDir final Path directory) throws Exception {
        try (CountersWriter writer = CountersWriter.start(directory, "net[/tmp/vm0.sock] q0 rx packets=123456",
                "net[/tmp/vm0.sock] q0 rx drops: port refused=7", "bridge[br0] port vm0 in packets=9")) {
            final VioplaneProcess.Result stat = VioplaneProcess.run("stat", "--dir", directory.toString(), "--format",
                    "prometheus");
            assertEquals(0, stat.exitCode(), stat.stderr());
            assertTrue(stat.stdout().contains("vioplane_net_drops_total{pid=\"" + writer.pid()
                    + "\",name=\"/tmp/vm0.sock\",queue=\"0\",direction=\"rx\",reason=\"port refused\"} 7"),
                    stat.stdout());
            assertPromtoolAccepts(stat.stdout());
        }
    }
}

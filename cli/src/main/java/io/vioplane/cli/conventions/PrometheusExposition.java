package io.vioplane.cli.conventions;

import io.vioplane.platform.runtime.CountersFileReader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * vioplane's counters in the Prometheus text exposition format (version 0.0.4): every counter is a monotonic
 * {@code counter} family named {@code vioplane_SCOPE_WHAT_total}, with what the label says about where it counts
 * turned into labels. A label {@code "net[/tmp/vm0.sock] q1 tx drops: port refused"} becomes
 * {@code vioplane_net_drops_total{pid="42",name="/tmp/vm0.sock",queue="1",direction="tx",reason="port refused"}};
 * {@code "capture[/tmp/cap] frames recorded"} becomes {@code vioplane_capture_frames_recorded_total{...}}.
 * Samples that map to the same family and labels are summed. Plus {@code vioplane_process_start_time_seconds} per
 * process (a gauge, as in the client libraries' process collectors).
 */
public final class PrometheusExposition {
    /** The Content-Type of this format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Pattern SCOPED = Pattern.compile("^([A-Za-z][A-Za-z0-9-]*)\\[(.*)\\] (.+)$");
    private static final Pattern QUEUE = Pattern.compile("^q(\\d+) ([a-z]+) (.+)$");
    private static final Pattern REASONED = Pattern.compile("^([a-z]+): (.+)$");

    /** One counter as Prometheus sees it. */
    record Sample(String family, Map<String, String> labels) {
    }

    private PrometheusExposition() {
    }

    /** @return the exposition of every process's counters */
    public static String format(final List<CounterSnapshot> processes) {
        final Map<String, Map<Map<String, String>, Long>> families = new LinkedHashMap<>();
        final Map<String, String> help = new LinkedHashMap<>();
        final StringBuilder out = new StringBuilder();
        out.append("# HELP vioplane_process_start_time_seconds Start time of the vioplane process since the epoch.\n");
        out.append("# TYPE vioplane_process_start_time_seconds gauge\n");
        for (CounterSnapshot process : processes) {
            out.append("vioplane_process_start_time_seconds{pid=\"").append(process.pid()).append("\"} ")
                    .append(String.format(Locale.ROOT, "%.3f", process.startEpochMs() / 1000.0)).append('\n');
            for (CountersFileReader.Counter counter : process.counters()) {
                final Sample sample = sample(process.pid(), counter.label());
                families.computeIfAbsent(sample.family(), name -> new LinkedHashMap<>())
                        .merge(sample.labels(), counter.value(), Long::sum);
                help.putIfAbsent(sample.family(), helpFor(counter.label()));
            }
        }
        families.forEach((family, samples) -> {
            out.append("# HELP ").append(family).append(' ').append(help.get(family)).append('\n');
            out.append("# TYPE ").append(family).append(" counter\n");
            samples.forEach((labels, value) -> {
                out.append(family).append('{');
                final List<String> pairs = new ArrayList<>();
                labels.forEach((key, text) -> pairs.add(key + "=\"" + escape(text) + "\""));
                out.append(String.join(",", pairs)).append("} ").append(value).append('\n');
            });
        });
        return out.toString();
    }

    /** @return the family and labels of a counter labelled {@code label} in process {@code pid} */
    static Sample sample(final long pid, final String label) {
        final Map<String, String> labels = new LinkedHashMap<>();
        labels.put("pid", Long.toString(pid));
        String scope = null;
        String rest = label;
        final Matcher scoped = SCOPED.matcher(label);
        if (scoped.matches()) {
            scope = scoped.group(1);
            labels.put("name", scoped.group(2));
            rest = scoped.group(3);
        }
        final Matcher queue = QUEUE.matcher(rest);
        if (queue.matches()) {
            labels.put("queue", queue.group(1));
            labels.put("direction", queue.group(2));
            rest = queue.group(3);
        }
        final Matcher reasoned = REASONED.matcher(rest);
        if (reasoned.matches()) {
            labels.put("reason", reasoned.group(2));
            rest = reasoned.group(1);
        }
        final String what = snake(rest);
        return new Sample("vioplane_" + (scope == null ? "" : snake(scope) + "_") + what + "_total", labels);
    }

    private static String helpFor(final String label) {
        final Matcher reasoned = REASONED.matcher(QUEUE.matcher(SCOPED.matcher(label).replaceFirst("$3"))
                .replaceFirst("$3"));
        final String what = reasoned.matches() ? reasoned.group(1) + " by reason" : SCOPED.matcher(label)
                .replaceFirst("$1: $3");
        return ("vioplane counter: " + what).replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** @return {@code text} in lower snake case, only {@code [a-z0-9_]}, never starting with a digit */
    static String snake(final String text) {
        final String snake = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
        return snake.isEmpty() ? "unnamed" : Character.isDigit(snake.charAt(0)) ? "_" + snake : snake;
    }

    private static String escape(final String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}

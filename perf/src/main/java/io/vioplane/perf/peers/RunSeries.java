package io.vioplane.perf.peers;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * One back-end's packets per second over several runs of one scenario: one median per run (of its per-second
 * samples), summarised as the median of those and their range.
 *
 * @param label         the back-end and its configuration
 * @param runMediansPps one median per run
 * @param dropsByReason frames the back-end dropped, summed over the runs by reason (what a vioplane daemon reports at
 *                      exit; empty for a back-end that reports none)
 */
public record RunSeries(String label, double[] runMediansPps, Map<String, Long> dropsByReason) {
    /** A series whose back-end reports no drops. */
    public RunSeries(final String label, final double[] runMediansPps) {
        this(label, runMediansPps, Map.of());
    }

    /** @return the drops as {@code "reason count; ..."} with thousands separators, "none", or "-" if not reported */
    public String dropsText(final boolean reported) {
        if (!reported) {
            return "-";
        }
        if (dropsByReason.isEmpty()) {
            return "none";
        }
        final StringBuilder text = new StringBuilder();
        dropsByReason.forEach((reason, count) -> text.append(text.isEmpty() ? "" : "; ").append(reason).append(' ')
                .append(String.format(Locale.ROOT, "%,d", count)));
        return text.toString();
    }

    /** @return the median of the run medians */
    public double medianPps() {
        return median(runMediansPps);
    }

    /** @return the smallest run median */
    public double minPps() {
        return Arrays.stream(runMediansPps).min().orElse(Double.NaN);
    }

    /** @return the largest run median */
    public double maxPps() {
        return Arrays.stream(runMediansPps).max().orElse(Double.NaN);
    }

    /** @return the median of {@code values} (NaN for none) */
    static double median(final double[] values) {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length == 0 ? Double.NaN
                : sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    /**
     * @return the median of per-second samples, the first {@code warmUpSamples} dropped when more than one sample
     *     would be left
     */
    static double steadyMedian(final double[] perSecond, final int warmUpSamples) {
        return median(perSecond.length > warmUpSamples + 1
                ? Arrays.copyOfRange(perSecond, warmUpSamples, perSecond.length) : perSecond);
    }
}

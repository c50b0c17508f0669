package io.vioplane.perf;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Runs vioplane's JMH benchmarks in forked JVMs that get the project's JVM flags (the {@code jvm.options}
 * argument file at the project root, found through {@code -Dvioplane.root}), with the GC profiler on so
 * that every row also says how many bytes one operation allocates.
 */
public final class BenchSuite {
    /** How long and how often to measure. */
    public record Settings(int forks, int warmupIterations, int warmupSeconds, int measurementIterations,
                           int measurementSeconds, List<String> includes, boolean verbose) {
        /** A short run: about 3 seconds per benchmark, for a first look. */
        public static Settings quick(final List<String> includes) {
            return new Settings(1, 1, 1, 2, 1, includes, false);
        }

        /** The default run: about 5 seconds per benchmark. */
        public static Settings standard(final List<String> includes) {
            return new Settings(1, 2, 1, 3, 1, includes, false);
        }

        /** A long run: about 16 seconds per benchmark, for figures to quote. */
        public static Settings full(final List<String> includes) {
            return new Settings(1, 3, 2, 5, 2, includes, false);
        }
    }

    /** The benchmarks {@code vioplane bench} runs when not told otherwise. */
    public static final List<String> DEFAULT_INCLUDES = List.of("io\\.vioplane\\.perf\\..*");

    private BenchSuite() {
    }

    /**
     * Runs every benchmark matching {@link Settings#includes()}.
     *
     * @return one result per benchmark and parameter combination
     */
    public static Collection<RunResult> run(final Settings settings) throws RunnerException {
        return run(settings, null);
    }

    /**
     * Runs every benchmark matching {@link Settings#includes()}, telling {@code progress} (if not null) as each
     * benchmark and parameter combination starts.
     *
     * @return one result per benchmark and parameter combination
     */
    public static Collection<RunResult> run(final Settings settings, final Progress progress) throws RunnerException {
        final ChainedOptionsBuilder options = new OptionsBuilder()
                .forks(settings.forks())
                .warmupIterations(settings.warmupIterations())
                .warmupTime(TimeValue.seconds(settings.warmupSeconds()))
                .measurementIterations(settings.measurementIterations())
                .measurementTime(TimeValue.seconds(settings.measurementSeconds()))
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true)
                .verbosity(settings.verbose() ? VerboseMode.NORMAL : VerboseMode.SILENT)
                .jvmArgs(forkJvmArgs().toArray(String[]::new));
        for (String include : settings.includes()) {
            options.include(include);
        }
        final OutputFormat output = OutputFormatFactory.createFormatInstance(System.out,
                settings.verbose() ? VerboseMode.NORMAL : VerboseMode.SILENT);
        if (progress == null) {
            return new Runner(options.build(), output).run();
        }
        progress.begin("JMH", plannedRuns(settings.includes()), secondsPerRun(settings));
        try {
            return new Runner(options.build(), new ProgressOutput(output, progress)).run();
        } finally {
            progress.end();
        }
    }

    /** @return how many benchmark runs (benchmark, mode and parameter combination) {@code includes} selects */
    public static int plannedRuns(final List<String> includes) {
        final OutputFormat quiet = OutputFormatFactory.createFormatInstance(
                new PrintStream(OutputStream.nullOutputStream()), VerboseMode.SILENT);
        int runs = 0;
        for (BenchmarkListEntry entry : BenchmarkList.defaultList().find(quiet, includes, List.of())) {
            int combinations = 1;
            if (entry.getParams().hasValue()) {
                for (String[] values : entry.getParams().get().values()) {
                    combinations *= Math.max(1, values.length);
                }
            }
            runs += combinations;
        }
        return runs;
    }

    /** @return the expected length of one benchmark run: its iterations plus about 2 s to start the forked JVM */
    public static double secondsPerRun(final Settings settings) {
        return settings.forks() * (settings.warmupIterations() * settings.warmupSeconds()
                + settings.measurementIterations() * settings.measurementSeconds() + 2.0);
    }

    /** JMH's own output, plus a progress step as each benchmark run starts. */
    private record ProgressOutput(OutputFormat delegate, Progress progress) implements OutputFormat {
        @Override
        public void startBenchmark(final BenchmarkParams params) {
            final StringBuilder what = new StringBuilder(BenchTable.shortName(params.getBenchmark()));
            for (String key : params.getParamsKeys()) {
                what.append(' ').append(key).append('=').append(params.getParam(key));
            }
            progress.step(what.toString());
            delegate.startBenchmark(params);
        }

        @Override
        public void iteration(final BenchmarkParams benchmark, final IterationParams iteration, final int index) {
            delegate.iteration(benchmark, iteration, index);
        }

        @Override
        public void iterationResult(final BenchmarkParams benchmark, final IterationParams iteration, final int index,
                                    final IterationResult result) {
            delegate.iterationResult(benchmark, iteration, index, result);
        }

        @Override
        public void endBenchmark(final BenchmarkResult result) {
            delegate.endBenchmark(result);
        }

        @Override
        public void startRun() {
            delegate.startRun();
        }

        @Override
        public void endRun(final Collection<RunResult> results) {
            delegate.endRun(results);
        }

        @Override
        public void print(final String text) {
            delegate.print(text);
        }

        @Override
        public void println(final String text) {
            delegate.println(text);
        }

        @Override
        public void flush() {
            delegate.flush();
        }

        @Override
        public void close() {
            delegate.close();
        }

        @Override
        public void verbosePrintln(final String text) {
            delegate.verbosePrintln(text);
        }

        @Override
        public void write(final int b) {
            delegate.write(b);
        }

        @Override
        public void write(final byte[] b) throws java.io.IOException {
            delegate.write(b);
        }
    }

    /**
     * @return the benchmarks (JMH's generated list, {@code META-INF/BenchmarkList}) whose names match one of
     *     {@code includes}, one entry per benchmark method and mode
     */
    public static List<String> matching(final List<String> includes) {
        final OutputFormat quiet = OutputFormatFactory.createFormatInstance(
                new PrintStream(OutputStream.nullOutputStream()), VerboseMode.SILENT);
        return BenchmarkList.defaultList().find(quiet, includes, List.of()).stream()
                .map(BenchmarkListEntry::getUsername).toList();
    }

    /** @return the JVM arguments of each forked benchmark JVM */
    public static List<String> forkJvmArgs() {
        final List<String> args = new ArrayList<>();
        final String root = System.getProperty("vioplane.root");
        if (root != null && Files.isReadable(Path.of(root, "jvm.options"))) {
            args.add("@" + Path.of(root, "jvm.options").toAbsolutePath());
            args.add("-Dvioplane.root=" + root);
        } else {
            args.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        }
        args.add("-Xms1g");
        args.add("-Xmx1g");
        return args;
    }
}

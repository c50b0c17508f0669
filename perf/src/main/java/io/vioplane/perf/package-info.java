/**
 * vioplane's benchmarks: JMH benchmarks per component, and {@link io.vioplane.perf.BenchSuite}, which runs
 * them with the project's JVM flags and turns the results into the table {@code vioplane bench} prints.
 * Speed is measured here and only here: tests never assert timings.
 */
package io.vioplane.perf;

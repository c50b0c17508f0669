/**
 * Benchmarks of the virtqueues (module {@code vring}): one thread playing both sides of a ring
 * ({@link io.vioplane.perf.vring.VringRoundTripBenchmark}, the CPU cost of the protocol) and a driver thread
 * and a device thread on two cores over the same ring in memfd memory
 * ({@link io.vioplane.perf.vring.VringTwoThreadBenchmark}, the delivered rate). Scores are buffers per
 * microsecond, i.e. Mpps; {@link io.vioplane.perf.vring.QueuePair} and
 * {@link io.vioplane.perf.vring.BufferShape} are the fixture they share.
 */
package io.vioplane.perf.vring;

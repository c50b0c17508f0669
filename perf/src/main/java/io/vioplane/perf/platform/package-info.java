/**
 * Benchmarks of the platform layer: the cost of a downcall, of an eventfd signal, of an eventfd round trip
 * between two threads, and of guest-memory accessors.
 */
package io.vioplane.perf.platform;

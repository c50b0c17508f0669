/**
 * The {@code vioplane} command (picocli): {@code bench} runs the benchmarks and prints a table, {@code stat}
 * prints the live counters of running vioplane processes; the daemons join as their issues bring them.
 */
package io.vioplane.cli;

/**
 * The data-plane runtime: agents on their own threads (Agrona), the idle strategy that spins and then
 * blocks on kick eventfds, the memory-mapped counters file that {@code vioplane stat} reads from another
 * process, and the de-duplicating error log that a hostile peer cannot flood.
 */
package io.vioplane.platform.runtime;

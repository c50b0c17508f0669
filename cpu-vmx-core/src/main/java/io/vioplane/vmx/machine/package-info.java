/**
 * The machine: guest memory, MMIO and port-I/O buses, the VMM debug device, the run loop with per-reason exit
 * counters and a watchdog.
 */
package io.vioplane.vmx.machine;

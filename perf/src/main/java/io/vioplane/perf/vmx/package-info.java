/**
 * The exit-loop benchmark of the KVM backend (issue 11, performance): the exit_loop guest on vioplane's
 * {@code Machine} and on the C reference VMM ({@code src/main/c/minivmm.c}) side by side, with exits per write read
 * from KVM's own statistics and from the VMMs' counters.
 */
package io.vioplane.perf.vmx;

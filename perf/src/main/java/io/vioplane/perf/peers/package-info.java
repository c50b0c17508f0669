/**
 * Side-by-side runs against real peers, reported as ratios from one run: vioplane's vhost-user daemon against
 * DPDK's own vhost back-end behind the same DPDK front-end on the same cores, and the round-trip latency of the
 * echo path measured by an in-process front-end.
 */
package io.vioplane.perf.peers;

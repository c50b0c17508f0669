/**
 * DPDK's {@code dpdk-testpmd} as a peer: started, watched and stopped by pid, its forward statistics parsed.
 * Integration tests run it as the vhost-user front-end of vioplane's daemon; the benchmarks also run DPDK's own
 * vhost back-end as the reference. The only dependency is the JDK.
 */
package io.vioplane.peers.dpdk;

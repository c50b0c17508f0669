/** JMH benchmarks of the 82540EM model's transmit path (issue 13): descriptor fetch, checksum offload, TSO. */
package io.vioplane.perf.e1000;

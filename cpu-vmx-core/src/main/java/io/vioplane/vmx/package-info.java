/**
 * cpu-vmx-core: a VMM that runs the project's own bare-metal guests and reports every VM exit by its VT-x basic
 * exit reason (Intel SDM Vol. 3, Appendix C).
 */
package io.vioplane.vmx;

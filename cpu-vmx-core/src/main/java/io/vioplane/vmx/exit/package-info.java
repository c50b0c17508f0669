/**
 * The VT-x exit vocabulary (Intel SDM Vol. 3, chapter 28 and Appendix C): {@link io.vioplane.vmx.exit.VmExit},
 * basic exit reasons and exit-qualification encodings, shared by every vCPU backend.
 */
package io.vioplane.vmx.exit;

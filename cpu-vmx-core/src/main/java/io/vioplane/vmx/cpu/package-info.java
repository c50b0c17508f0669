/** Guest CPU state in VT-x guest-state-area terms (Intel SDM Vol. 3, 25.4), independent of the vCPU backend. */
package io.vioplane.vmx.cpu;

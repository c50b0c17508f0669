/** The vCPU backend SPI: run until a VT-x exit (Intel SDM Vol. 3, chapter 28). */
package io.vioplane.vmx.vcpu;

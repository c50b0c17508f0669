/**
 * Interrupts a device raises toward its driver: the {@link io.vioplane.platform.irq.Interrupt} trigger,
 * its eventfd form (a vhost-user call fd or a KVM irqfd) and the MSI message format.
 */
package io.vioplane.platform.irq;

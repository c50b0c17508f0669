/**
 * What every vioplane module shares: the Linux calls ({@link io.vioplane.platform.sys}), guest memory
 * ({@link io.vioplane.platform.memory}), interrupts ({@link io.vioplane.platform.irq}) and the data-plane
 * runtime ({@link io.vioplane.platform.runtime}).
 */
package io.vioplane.platform;

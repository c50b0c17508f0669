package io.vioplane.iommu;

import io.vioplane.platform.irq.MsiMessage;

/**
 * Where the VT-d unit sends the interrupts it generates itself: the fault event (FEADDR/FEDATA, VT-d 3.x section
 * 7.3) and the invalidation completion event (IEADDR/IEDATA, section 6.5.2.8). The VMM routes them to its
 * interrupt controller. Called with the unit's lock held: must not block and must not call back into the unit.
 */
@FunctionalInterface
public interface MsiSink {
    /** A sink that drops every message: for a unit whose events nobody listens to. */
    MsiSink NONE = message -> { };

    /** Sends {@code message}. */
    void send(MsiMessage message);
}

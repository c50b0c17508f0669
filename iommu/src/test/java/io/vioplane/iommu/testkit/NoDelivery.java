package io.vioplane.iommu.testkit;

import io.vioplane.iommu.InterruptDelivery;
import io.vioplane.iommu.InterruptRoute;

/** An interrupt controller that drops everything: for tests about what happens before delivery. */
public enum NoDelivery implements InterruptDelivery {
    /** The one instance. */
    INSTANCE;

    @Override
    public void deliver(final InterruptRoute route) {
    }

    @Override
    public void notifyPosted(final int notificationVector, final int destination) {
    }
}

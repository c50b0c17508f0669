package io.vioplane.vmx.machine;

import io.vioplane.platform.runtime.CounterKind;

/**
 * What a machine's VT-d register window ({@link VtdMmioDevice}) counts besides the unit's own counters
 * ({@link io.vioplane.iommu.IommuCounter}, which count unknown offsets as register misuse).
 */
public enum VtdMmioCounter implements CounterKind {
    /** Accesses the VT-d register interface does not allow (VT-d 3.x section 11.2): not 4 or 8 bytes, or unaligned. */
    BAD_ACCESS("iommu registers: guest access not 4 or 8 bytes naturally aligned (ignored, reads all ones)"),
    /**
     * Fault and invalidation-completion event messages (VT-d 3.x sections 7.3 and 6.5.2.8) the unit sent: the
     * machine has no interrupt controller path yet, so they are counted, not delivered.
     */
    EVENTS_UNDELIVERED("iommu events: fault/invalidation MSIs sent, not delivered (the machine has no interrupt path)");

    private final String label;

    VtdMmioCounter(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}
